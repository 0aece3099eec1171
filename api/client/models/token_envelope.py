from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.token_envelope_status import TokenEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.meta import Meta
  from ..models.token import Token





T = TypeVar("T", bound="TokenEnvelope")



@_attrs_define
class TokenEnvelope:
    """ 
        Attributes:
            data (Token):
            meta (Meta):
            status (TokenEnvelopeStatus):  Default: TokenEnvelopeStatus.SUCCESS.
     """

    data: Token
    meta: Meta
    status: TokenEnvelopeStatus = TokenEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.token import Token # noqa: PLC0415
        data = self.data.to_dict()

        meta = self.meta.to_dict()

        status = self.status.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "data": data,
            "meta": meta,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.meta import Meta # noqa: PLC0415
        from ..models.token import Token # noqa: PLC0415
        d = dict(src_dict)
        data = Token.from_dict(d.pop("data"))




        meta = Meta.from_dict(d.pop("meta"))




        status = TokenEnvelopeStatus(d.pop("status"))




        token_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return token_envelope

