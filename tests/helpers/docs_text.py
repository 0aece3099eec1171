"""Facts pulled out of the hand-written docs, so tests can hold them against the code."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from api.settings import REPO_ROOT

DOCS = REPO_ROOT / "docs"
# An environment variable name; not a prefix such as VIRTFLOW_QUOTA_* or VIRTFLOW_QUOTA_{name}.
ENV_NAME = re.compile(r"(VIRTFLOW_[A-Z0-9_]*[A-Z0-9])(?![A-Za-z0-9_{*])")
ENDPOINT_CELL = re.compile(
    r"^\| `(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`?]*)(?:\?[^`]*)?` \|", re.MULTILINE
)
# "409 QUOTA_EXCEEDED", "409 `QUOTA_EXCEEDED`", "409 `CONFLICT`" (bare words need an underscore:
# "200 OK" is no code).
STATUS_AND_CODE = re.compile(
    r"\b([1-5]\d\d) (?:`([A-Z][A-Z0-9_]{2,}[A-Z0-9])`|([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b)"
)
CODE_SPAN = re.compile(r"`([A-Z][A-Z0-9_]*[A-Z0-9])`")
COLUMN_CELL = re.compile(r"^\| ((?:`[a-z0-9_]+`(?:, )?)+) \|", re.MULTILINE)
STATE_EDGE = re.compile(r"^\s*(\[\*\]|\w+) --> (\[\*\]|\w+)(?:: (.*))?$", re.MULTILINE)


def current_docs() -> list[Path]:
    """The design documents and the README; not the ADRs, which keep the history they decided."""
    return [*sorted(DOCS.glob("*.md")), REPO_ROOT / "README.md"]


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of a markdown section, up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    pattern = re.compile(rf"^#{{1,{len(level)}}} ", re.MULTILINE)
    ends = [m.start() for m in pattern.finditer(text[start:])]
    return text[start : start + ends[0]] if ends else text[start:]


def documented_endpoints() -> set[tuple[str, str]]:
    """(METHOD, path) of every row of the endpoint tables in api.md."""
    body = section(read("api.md"), "## Endpoints")
    return set(ENDPOINT_CELL.findall(body))


def status_table_pairs() -> set[tuple[int, str]]:
    """(status, code) of the HTTP status mapping table in api.md."""
    pairs = set()
    for line in section(read("api.md"), "## HTTP status mapping").splitlines():
        match = re.match(r"^\| (\d{3})[^|]*\|[^|]*\| (.*) \|$", line)
        if match:
            status = int(match.group(1))
            pairs |= {(status, code) for code in CODE_SPAN.findall(match.group(2))}
    return pairs


def status_code_mentions() -> Iterator[tuple[str, int, int, str]]:
    """(file, line, status, code) of every "<status> <CODE>" in the current docs."""
    for path in current_docs():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for status, quoted, bare in STATUS_AND_CODE.findall(line):
                yield path.name, number, int(status), quoted or bare


def settings_table() -> set[str]:
    """The variables the runbook's Settings table lists (first column)."""
    names = set()
    for line in section(read("runbook.md"), "## Settings").splitlines():
        if line.startswith("| `VIRTFLOW_"):
            names |= set(ENV_NAME.findall(line.split(" | ", 1)[0]))
    return names


def env_names(paths: list[Path]) -> dict[str, set[str]]:
    """Every VIRTFLOW_* name in these files, with the files naming it."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for name in ENV_NAME.findall(path.read_text(encoding="utf-8")):
            where = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
            found.setdefault(name, set()).add(str(where))
    return found


class RecordingEnv(dict[str, str]):
    """An empty environment that remembers every name asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False


def state_diagram(heading: str) -> list[tuple[str, str, str]]:
    """(from, to, label) edges of the stateDiagram under a data-model.md heading."""
    body = section(read("data-model.md"), heading)
    block = re.search(r"```mermaid\nstateDiagram-v2\n(.*?)```", body, re.DOTALL)
    assert block, f"no state diagram under {heading}"
    return [(a, b, label or "") for a, b, label in STATE_EDGE.findall(block.group(1))]


def diagram_states(edges: list[tuple[str, str, str]]) -> set[str]:
    return {state for a, b, _ in edges for state in (a, b)} - {"[*]"}


def er_entities() -> dict[str, set[str]]:
    """Entity name -> attribute names of the erDiagram in data-model.md."""
    text = read("data-model.md")
    block = re.search(r"```mermaid\nerDiagram\n(.*?)```", text, re.DOTALL)
    assert block, "no erDiagram in data-model.md"
    entities = re.findall(r"^ {4}(\w+) \{\n(.*?)\n {4}\}", block.group(1), re.DOTALL | re.MULTILINE)
    return {name: {line.split()[1] for line in body.splitlines()} for name, body in entities}


def table_sections() -> dict[str, set[str]]:
    """Table name -> column names of each `### <table>` section of data-model.md."""
    body = section(read("data-model.md"), "## Tables")
    tables = {}
    for part in re.split(r"^### ", body, flags=re.MULTILINE)[1:]:
        name = part.split("\n", 1)[0].strip()
        cells = COLUMN_CELL.findall(part)
        tables[name] = {col for cell in cells for col in re.findall(r"`([a-z0-9_]+)`", cell)}
    return tables


def missing_or_extra(code: Mapping[str, Any] | set[str], docs: set[str]) -> dict[str, list[str]]:
    """What one side has and the other lacks; empty lists when they agree."""
    return {
        "in the code, not in the docs": sorted(set(code) - docs),
        "in the docs, not in the code": sorted(docs - set(code)),
    }


AGREE = {"in the code, not in the docs": [], "in the docs, not in the code": []}
