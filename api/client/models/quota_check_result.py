from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.quota_exceeded import QuotaExceeded





T = TypeVar("T", bound="QuotaCheckResult")



@_attrs_define
class QuotaCheckResult:
    """ 
        Attributes:
            exceeded (list[QuotaExceeded]):
            fits (bool):
     """

    exceeded: list[QuotaExceeded]
    fits: bool





    def to_dict(self) -> dict[str, Any]:
        from ..models.quota_exceeded import QuotaExceeded # noqa: PLC0415
        exceeded = []
        for exceeded_item_data in self.exceeded:
            exceeded_item = exceeded_item_data.to_dict()
            exceeded.append(exceeded_item)



        fits = self.fits


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "exceeded": exceeded,
            "fits": fits,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.quota_exceeded import QuotaExceeded # noqa: PLC0415
        d = dict(src_dict)
        exceeded = []
        _exceeded = d.pop("exceeded")
        for exceeded_item_data in (_exceeded):
            exceeded_item = QuotaExceeded.from_dict(exceeded_item_data)



            exceeded.append(exceeded_item)


        fits = d.pop("fits")

        quota_check_result = cls(
            exceeded=exceeded,
            fits=fits,
        )

        return quota_check_result

