from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Progress")



@_attrs_define
class Progress:
    """ 
        Attributes:
            events (int):
            host_tasks_done (int):
            current_task (None | str | Unset):
     """

    events: int
    host_tasks_done: int
    current_task: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        events = self.events

        host_tasks_done = self.host_tasks_done

        current_task: None | str | Unset
        if isinstance(self.current_task, Unset):
            current_task = UNSET
        else:
            current_task = self.current_task


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "events": events,
            "host_tasks_done": host_tasks_done,
        })
        if current_task is not UNSET:
            field_dict["current_task"] = current_task

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = d.pop("events")

        host_tasks_done = d.pop("host_tasks_done")

        def _parse_current_task(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        current_task = _parse_current_task(d.pop("current_task", UNSET))


        progress = cls(
            events=events,
            host_tasks_done=host_tasks_done,
            current_task=current_task,
        )

        return progress

