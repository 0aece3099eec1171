"""Service tests reuse the API tests' cheap password hash."""

from tests.api.conftest import fast_password_hash

__all__ = ["fast_password_hash"]
