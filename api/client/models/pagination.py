from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Pagination")



@_attrs_define
class Pagination:
    """ 
        Attributes:
            page (int):
            pages (int):
            per_page (int):
            total (int):
            next_ (int | None | Unset): lists paged by cursor (job events, the audit log): the `after` that reads the page
                after this one; null on the last page
            total_is_estimate (bool | Unset): present (true) when the list has more rows than VIRTFLOW_EXACT_COUNT_LIMIT:
                total and pages are then the planner's estimate
     """

    page: int
    pages: int
    per_page: int
    total: int
    next_: int | None | Unset = UNSET
    total_is_estimate: bool | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        page = self.page

        pages = self.pages

        per_page = self.per_page

        total = self.total

        next_: int | None | Unset
        if isinstance(self.next_, Unset):
            next_ = UNSET
        else:
            next_ = self.next_

        total_is_estimate = self.total_is_estimate


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "total": total,
        })
        if next_ is not UNSET:
            field_dict["next"] = next_
        if total_is_estimate is not UNSET:
            field_dict["total_is_estimate"] = total_is_estimate

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        page = d.pop("page")

        pages = d.pop("pages")

        per_page = d.pop("per_page")

        total = d.pop("total")

        def _parse_next_(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        next_ = _parse_next_(d.pop("next", UNSET))


        total_is_estimate = d.pop("total_is_estimate", UNSET)

        pagination = cls(
            page=page,
            pages=pages,
            per_page=per_page,
            total=total,
            next_=next_,
            total_is_estimate=total_is_estimate,
        )

        return pagination

