"""Posting many events for the client's writing calls: read from files or iterables, told
apart by the intake's ``form_of`` (native or OpenLineage), cut into batches of one
transaction each, and summed up.

A file is JSON (one event, ``{"events": [...]}`` or an array) or JSON Lines. Every event
keeps where it came from (its line in a JSON Lines file, else its position), so each event
that fails is reported as ``FILE:LINE: reason`` while the valid ones of its batch land.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mllineage.client.errors import LineageAPIError, Problem
from mllineage.ingest.intake import form_of

BATCH_SIZE = 500
NOT_AN_OBJECT = "not a JSON object"


@dataclass(frozen=True)
class Item:
    """One event and where it came from, or why it could not be read."""

    line: int  # its line in a JSON Lines file, else its position (from 1)
    event: dict[str, Any] | None
    error: str | None = None

    @property
    def openlineage(self) -> bool:
        return self.event is not None and form_of(self.event) == "openlineage"


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
class Failed:
    """An event that was not written, where it came from, and why."""

    source: str
    line: int  # its line in a JSON Lines file, else its position (from 1)
    reason: str
    error: LineageAPIError | None = None  # None when it was not sent (unreadable)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


COUNTS = ("nodes", "edges", "nodes_created", "edges_created")


@dataclass
class IngestReport:
    """What landed, summed over every batch, and each event that did not."""

    events: int = 0
    nodes: int = 0
    edges: int = 0
    nodes_created: int = 0
    edges_created: int = 0
    failed: list[Failed] = field(default_factory=list)

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
    """Post every source in batches. With ``keep_going``, the valid events of a batch land
    and each invalid one is recorded in ``failed``; else the first failure is raised. A
    progress bar (on stderr) is shown for a source of more than 10 batches unless
    ``progress`` says otherwise."""
    report = IngestReport()
    for source in sources:
        if isinstance(source, Path | str):
            name, items = str(source), read_events(Path(source))
        else:
            name, items = "events", items_of(source)
        chunks = list(batches(items, batch_size))
        show = progress if progress is not None else len(chunks) > 10
        for batch in tqdm(chunks, unit="batch", disable=not show, file=sys.stderr):
            failed = _post(post_batch, name, batch, report)
            if failed and not keep_going:
                raise failed[0].error or ValueError(str(failed[0]))
            report.failed += failed
    return report


def _at_fault(error: LineageAPIError, size: int) -> dict[int, str]:
    """The items of a batch the server refused, by index, with its reasons; empty when the
    refusal was not about particular items (the whole batch failed)."""
    if error.status != 422:
        return {}
    reasons: dict[int, list[str]] = {}
    for problem in error.problems:
        if problem.index is not None and 0 <= problem.index < size:
            reasons.setdefault(problem.index, []).append(f"{problem.field}: {problem.message}")
    return {index: "; ".join(found) for index, found in reasons.items()}


def _post(
    post_batch: PostBatch, name: str, batch: list[Item], report: IngestReport
) -> list[Failed]:
    """Post one batch and count what landed. An item the server refuses is dropped and the
    rest sent again (each round drops at least one), so every valid event lands; an error
    that is not about particular items (an outage past the retries, a body too large)
    fails the batch's events that are left."""
    failed = [Failed(name, item.line, str(item.error)) for item in batch if item.error]
    pending = [item for item in batch if not item.error]
    while pending:
        events = [item.event for item in pending if item.event is not None]
        try:
            written = post_batch(events, pending[0].openlineage)
        except LineageAPIError as exc:
            at_fault = _at_fault(exc, len(pending))
            if not at_fault:
                return failed + [Failed(name, item.line, str(exc), exc) for item in pending]
            failed += [Failed(name, pending[i].line, why, exc) for i, why in at_fault.items()]
            pending = [item for i, item in enumerate(pending) if i not in at_fault]
            continue
        # OpenLineage batches answer per item: the valid events landed, these did not.
        refused = {f["index"]: f["reason"] for f in written.get("failed_events", [])}
        failed += [
            Failed(name, pending[i].line, why, LineageAPIError(422, why, [Problem("", why, i)]))
            for i, why in sorted(refused.items())
        ]
        report.add(len(pending) - len(refused), written)
        break
    return sorted(failed, key=lambda f: f.line)
