from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PasswordChanged")



@_attrs_define
class PasswordChanged:
    """ 
        Attributes:
            other_sessions_ended (int): sessions other than this one, now revoked
     """

    other_sessions_ended: int





    def to_dict(self) -> dict[str, Any]:
        other_sessions_ended = self.other_sessions_ended


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "other_sessions_ended": other_sessions_ended,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        other_sessions_ended = d.pop("other_sessions_ended")

        password_changed = cls(
            other_sessions_ended=other_sessions_ended,
        )

        return password_changed

