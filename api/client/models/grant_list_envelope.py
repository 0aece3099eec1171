from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.grant_list_envelope_status import GrantListEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.grant import Grant
  from ..models.list_meta import ListMeta





T = TypeVar("T", bound="GrantListEnvelope")



@_attrs_define
class GrantListEnvelope:
    """ 
        Attributes:
            data (list[Grant]):
            meta (ListMeta):
            status (GrantListEnvelopeStatus):  Default: GrantListEnvelopeStatus.SUCCESS.
     """

    data: list[Grant]
    meta: ListMeta
    status: GrantListEnvelopeStatus = GrantListEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.grant import Grant # noqa: PLC0415
        from ..models.list_meta import ListMeta # noqa: PLC0415
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)



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
        from ..models.grant import Grant # noqa: PLC0415
        from ..models.list_meta import ListMeta # noqa: PLC0415
        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = Grant.from_dict(data_item_data)



            data.append(data_item)


        meta = ListMeta.from_dict(d.pop("meta"))




        status = GrantListEnvelopeStatus(d.pop("status"))




        grant_list_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return grant_list_envelope

