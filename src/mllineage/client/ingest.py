"""Posting many events: read from files or iterables, told apart (native or OpenLineage),
cut into batches of one transaction each, and summed up.

A file is JSON (one event, ``{"events": [...]}`` or an array) or JSON Lines. Every event
keeps where it came from (its line in a JSON Lines file, else its position), so a rejected
batch can point at the event at fault.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mllineage.client.errors import LineageAPIError

NOT_AN_OBJECT = "not a JSON object"


def is_openlineage(event: dict[str, Any]) -> bool:
    """OpenLineage events name their time ``eventTime`` and carry a ``schemaURL``; native
    events have ``event_time`` and neither."""
    return "eventTime" in event or "schemaURL" in event


@dataclass(frozen=True)
class Item:
    """One event and where it came from, or why it could not be read."""

    line: int  # its line in a JSON Lines file, else its position (from 1)
    event: dict[str, Any] | None
    error: str | None = None

    @property
    def openlineage(self) -> bool:
        return self.event is not None and is_openlineage(self.event)


def _item(line: int, value: Any) -> Item:
    if isinstance(value, dict):
        return Item(line, value)
    return Item(line, None, NOT_AN_OBJECT)


def items_of(events: Iterable[Any]) -> Iterator[Item]:
    """The events of an iterable, numbered from 1."""
    for position, event in enumerate(events, start=1):
        yield _item(position, event)


def read_events(path: Path) -> Iterator[Item]:
    """The events of a JSON or JSON Lines file; unreadable lines become items with an error."""
    text = path.read_text()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("events"), list):
        whole = whole["events"]
    if isinstance(whole, dict):
        yield Item(1, whole)
    elif isinstance(whole, list):
        yield from items_of(whole)
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield _item(number, json.loads(line))
            except json.JSONDecodeError as exc:
                yield Item(number, None, f"invalid JSON: {exc.msg}")


def batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Consecutive items of one format (native or OpenLineage), at most ``size`` each."""
    batch: list[Item] = []
    for item in items:
        if batch and (len(batch) == size or item.openlineage != batch[0].openlineage):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


@dataclass(frozen=True)
class Rejected:
    """A batch that was not written: nothing of it landed."""

    source: str
    items: list[Item]
    reason: str  # the unreadable event's error, or the server's answer
    error: LineageAPIError | None = None  # None when the batch was not sent

    @property
    def line(self) -> int | None:
        """The line (or position) of the event at fault, when it is known."""
        if self.error is None:
            return next(item.line for item in self.items if item.error)
        index = self.error.index
        return self.items[index].line if index is not None and index < len(self.items) else None

    @property
    def lines(self) -> tuple[int, int]:
        """The first and last line of the batch."""
        return self.items[0].line, self.items[-1].line


COUNTS = ("nodes", "edges", "nodes_created", "edges_created")


@dataclass
class IngestReport:
    """What landed, summed over every batch, and the batches that did not."""

    events: int = 0
    nodes: int = 0
    edges: int = 0
    nodes_created: int = 0
    edges_created: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {"events": self.events, **{key: getattr(self, key) for key in COUNTS}}

    def add(self, events: int, written: dict[str, Any]) -> None:
        self.events += events
        for key in COUNTS:
            setattr(self, key, getattr(self, key) + written[key])


PostBatch = Callable[[list[dict[str, Any]], bool], dict[str, Any]]


def send(
    post_batch: PostBatch,
    sources: Iterable[Path | str | Iterable[Any]],
    batch_size: int,
    progress: bool | None,
    keep_going: bool,
) -> IngestReport:
    """Post every source in batches. A rejected batch is recorded and the rest goes on, or,
    unless ``keep_going``, raised. A progress bar (on stderr) is shown for a source of more
    than 10 batches unless ``progress`` says otherwise."""
    report = IngestReport()
    for source in sources:
        if isinstance(source, Path | str):
            name, items = str(source), read_events(Path(source))
        else:
            name, items = "events", items_of(source)
        chunks = list(batches(items, batch_size))
        show = progress if progress is not None else len(chunks) > 10
        for batch in tqdm(chunks, unit="batch", disable=not show, file=sys.stderr):
            rejected = _post(post_batch, name, batch, report)
            if rejected is not None and not keep_going:
                raise rejected.error or ValueError(
                    f"{name}: item {rejected.line}: {rejected.reason}"
                )
            if rejected is not None:
                report.rejected.append(rejected)
    return report


def _post(
    post_batch: PostBatch, name: str, batch: list[Item], report: IngestReport
) -> Rejected | None:
    """Post one batch and count what it wrote; or say why nothing of it was written."""
    if bad := next((item for item in batch if item.error), None):
        return Rejected(name, batch, str(bad.error))
    events = [item.event for item in batch if item.event is not None]
    try:
        written = post_batch(events, batch[0].openlineage)
    except LineageAPIError as exc:
        return Rejected(name, batch, str(exc), exc)
    report.add(len(events), written)
    return None
