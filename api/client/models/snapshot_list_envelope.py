from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.snapshot_list_envelope_status import SnapshotListEnvelopeStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.list_meta import ListMeta
  from ..models.snapshot import Snapshot





T = TypeVar("T", bound="SnapshotListEnvelope")



@_attrs_define
class SnapshotListEnvelope:
    """ 
        Attributes:
            data (list[Snapshot]):
            meta (ListMeta):
            status (SnapshotListEnvelopeStatus):  Default: SnapshotListEnvelopeStatus.SUCCESS.
     """

    data: list[Snapshot]
    meta: ListMeta
    status: SnapshotListEnvelopeStatus = SnapshotListEnvelopeStatus.SUCCESS





    def to_dict(self) -> dict[str, Any]:
        from ..models.list_meta import ListMeta # noqa: PLC0415
        from ..models.snapshot import Snapshot # noqa: PLC0415
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
        from ..models.list_meta import ListMeta # noqa: PLC0415
        from ..models.snapshot import Snapshot # noqa: PLC0415
        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in (_data):
            data_item = Snapshot.from_dict(data_item_data)



            data.append(data_item)


        meta = ListMeta.from_dict(d.pop("meta"))




        status = SnapshotListEnvelopeStatus(d.pop("status"))




        snapshot_list_envelope = cls(
            data=data,
            meta=meta,
            status=status,
        )

        return snapshot_list_envelope

