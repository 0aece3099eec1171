"""Public SSH keys for the tests of a VM create's ssh_authorized_keys (made by ssh-keygen; the
private halves were thrown away), and a builder of key bodies in SSH wire format."""

from __future__ import annotations

import base64

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBP8N2EhqIniQdHb1caQh7YuD4de2MDZ4RwEnnTxS+PN t@x"
RSA = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDG2HfZvS6V0uqsiwywtJ/U04MnvTd733qcTTDLVAQ3T654tV5NUg3m"
    "N2iXX/cv9TY94gC1pGsc34uJMJyZWH7DRtFFbjUAW72kUFK4t3JUF9u67WD9cfCDYTsZyVyif44kJnRj/p4k27DLA1Ci"
    "BwBh2ouK0JH+DneWMYzVYmc7J85oWvmcTc4Vjmt0oi4CyjH96gnriGcAcJftkUgmxzAya/zwjSNua1e+jxhPcokftJ76"
    "vA0s6YKyVKwg2XFL28h3ry9AxcdCHBrngIlEAIl/IYzbA1jYWnPPwUyoDEXntsoh8LL+JZKgAVd+Ik+IoomF/ZbA8uy3"
    "UAsxG8NkiQZn t@x"
)
ECDSA_256 = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAwrq3dFUs5s+g78HfhX"
    "xF/+N2p0bXEdlsjAWpVMYn11YGGFS2nEpLc5JTQ9lLA2avE7yAU/B4FYLct8sgO7mWY= t@x"
)
ECDSA_384 = (
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBMUFq6l4Y4xzcIhAqNRz"
    "j8/iweQR6dHJr5C3DF0HGrDij2AYi2gOuYAlSNWJ8czjtybdh9zDmmTifPYM5BR2DEvYt78EgPqV2OJMREirZjlMnWRo"
    "nfM7cnScZt6DDnSiUQ== t@x"
)
ECDSA_521 = (
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGzdFzbEP+n92oZD6LI"
    "q9KdkGtpxOwgVyPD8CE/jalfOUlRq2UB89dsHlJaTssqq2vAwYojawNex8sbLD0KwwrdjwAVYRgThMdgTdDIeZvlDSBG"
    "RJ2bvHK18toH3Cb60WebKWgy4GdKYP8hk9Ob4lWv/1DvKCicItocKEOysptiw9ndew== t@x"
)


def wire(*fields: bytes) -> str:
    """A key body: each field as a 4-byte big-endian length and its bytes, in base64."""
    blob = b"".join(len(f).to_bytes(4, "big") + f for f in fields)
    return base64.b64encode(blob).decode()


def sk_ed25519() -> str:
    """A FIDO security-key ed25519 public key (type, 32-byte key, application)."""
    kind = "sk-ssh-ed25519@openssh.com"
    return f"{kind} {wire(kind.encode(), bytes(range(32)), b'ssh:')} yubikey"


def sk_ecdsa() -> str:
    kind = "sk-ecdsa-sha2-nistp256@openssh.com"
    body = wire(kind.encode(), b"nistp256", b"\x04" + bytes(64), b"ssh:")
    return f"{kind} {body}"
