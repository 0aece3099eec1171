from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.job_event_summary import JobEventSummary





T = TypeVar("T", bound="JobEvent")



@_attrs_define
class JobEvent:
    """ 
        Attributes:
            changed (bool):
            counter (int):
            created_at (datetime.datetime):
            event (str):
            host (None | str):
            play (None | str):
            status (None | str):
            stdout (str):
            summary (JobEventSummary):
            task (None | str):
     """

    changed: bool
    counter: int
    created_at: datetime.datetime
    event: str
    host: None | str
    play: None | str
    status: None | str
    stdout: str
    summary: JobEventSummary
    task: None | str





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_event_summary import JobEventSummary # noqa: PLC0415
        changed = self.changed

        counter = self.counter

        created_at = self.created_at.isoformat()

        event = self.event

        host: None | str
        host = self.host

        play: None | str
        play = self.play

        status: None | str
        status = self.status

        stdout = self.stdout

        summary = self.summary.to_dict()

        task: None | str
        task = self.task


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "changed": changed,
            "counter": counter,
            "created_at": created_at,
            "event": event,
            "host": host,
            "play": play,
            "status": status,
            "stdout": stdout,
            "summary": summary,
            "task": task,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_event_summary import JobEventSummary # noqa: PLC0415
        d = dict(src_dict)
        changed = d.pop("changed")

        counter = d.pop("counter")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        event = d.pop("event")

        def _parse_host(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host = _parse_host(d.pop("host"))


        def _parse_play(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        play = _parse_play(d.pop("play"))


        def _parse_status(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status = _parse_status(d.pop("status"))


        stdout = d.pop("stdout")

        summary = JobEventSummary.from_dict(d.pop("summary"))




        def _parse_task(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        task = _parse_task(d.pop("task"))


        job_event = cls(
            changed=changed,
            counter=counter,
            created_at=created_at,
            event=event,
            host=host,
            play=play,
            status=status,
            stdout=stdout,
            summary=summary,
            task=task,
        )

        return job_event

