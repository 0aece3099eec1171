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
            events (int): events stored so far
            host_tasks_done (int): host task results stored so far
            tasks_total (int | None): an estimate of host_tasks_done at the end: the host task results of the latest
                successful job of the same kind and playbook (a successful job: its own); null when there is none. A run that
                takes another branch may end above or below it
            current_task (None | str | Unset):
     """

    events: int
    host_tasks_done: int
    tasks_total: int | None
    current_task: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        events = self.events

        host_tasks_done = self.host_tasks_done

        tasks_total: int | None
        tasks_total = self.tasks_total

        current_task: None | str | Unset
        if isinstance(self.current_task, Unset):
            current_task = UNSET
        else:
            current_task = self.current_task


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "events": events,
            "host_tasks_done": host_tasks_done,
            "tasks_total": tasks_total,
        })
        if current_task is not UNSET:
            field_dict["current_task"] = current_task

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = d.pop("events")

        host_tasks_done = d.pop("host_tasks_done")

        def _parse_tasks_total(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        tasks_total = _parse_tasks_total(d.pop("tasks_total"))


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
            tasks_total=tasks_total,
            current_task=current_task,
        )

        return progress

