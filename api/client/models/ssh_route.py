from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.ssh_route_jump_type_0 import SSHRouteJumpType0





T = TypeVar("T", bound="SSHRoute")



@_attrs_define
class SSHRoute:
    """ 
        Attributes:
            host (None | str): where SSH connects from the host: 127.0.0.1 (user-mode networking, a forward) or the guest's
                address (NAT); null: no address known yet
            host_key_alias (str): the name to keep the guest's host key under (known_hosts)
            jump (None | SSHRouteJumpType0): the host to jump through, {host, port, user} as Ansible reaches it (user may be
                null); null: the host is the controller itself
            port (int | None): null: no address known yet
            user (str): the image's default_user, made by cloud-init
     """

    host: None | str
    host_key_alias: str
    jump: None | SSHRouteJumpType0
    port: int | None
    user: str





    def to_dict(self) -> dict[str, Any]:
        from ..models.ssh_route_jump_type_0 import SSHRouteJumpType0 # noqa: PLC0415
        host: None | str
        host = self.host

        host_key_alias = self.host_key_alias

        jump: dict[str, Any] | None
        if isinstance(self.jump, SSHRouteJumpType0):
            jump = self.jump.to_dict()
        else:
            jump = self.jump

        port: int | None
        port = self.port

        user = self.user


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "host": host,
            "host_key_alias": host_key_alias,
            "jump": jump,
            "port": port,
            "user": user,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ssh_route_jump_type_0 import SSHRouteJumpType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_host(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host = _parse_host(d.pop("host"))


        host_key_alias = d.pop("host_key_alias")

        def _parse_jump(data: object) -> None | SSHRouteJumpType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                jump_type_0 = SSHRouteJumpType0.from_dict(data)



                return jump_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SSHRouteJumpType0, data)

        jump = _parse_jump(d.pop("jump"))


        def _parse_port(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        port = _parse_port(d.pop("port"))


        user = d.pop("user")

        ssh_route = cls(
            host=host,
            host_key_alias=host_key_alias,
            jump=jump,
            port=port,
            user=user,
        )

        return ssh_route

