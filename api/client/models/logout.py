from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Logout")



@_attrs_define
class Logout:
    """ 
        Attributes:
            logged_out (bool): the session's access and refresh tokens are revoked
     """

    logged_out: bool





    def to_dict(self) -> dict[str, Any]:
        logged_out = self.logged_out


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "logged_out": logged_out,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        logged_out = d.pop("logged_out")

        logout = cls(
            logged_out=logged_out,
        )

        return logout

