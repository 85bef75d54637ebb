"""The one door every way in goes through: an HTTP body, a Kafka message, a line of a file or
what an integration read becomes the native items the store writes, or is refused as a whole.

``take`` checks one input of a known or guessed form (``form_of``): a native event or batch
``{"events": [...]}``, a graph upsert ``{"nodes", "edges"}``, or an OpenLineage event mapped
into the configured namespace; every event time must not be ahead of the clock. ``parse`` reads
bytes as strict JSON first. What is wrong is one error type, ``Rejected``, holding
pydantic-shaped problems (``type``, ``loc``, ``msg``, ``input``) located in the input, so the
API answers them as a 422 and the Kafka consumer writes them into a dead letter's headers.
``to_write`` turns what was taken into the one delta of a transaction. Pure: no I/O.
See docs/architecture.md for the paths through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from mllineage.ingest import feast, strict_json
from mllineage.ingest.delta import GraphDelta
from mllineage.ingest.events import to_delta
from mllineage.ingest.openlineage import (
    DatasetEvent,
    JobEvent,
    OpenLineageEvent,
    RunEvent,
    to_native,
)
from mllineage.model.domain import EventBatch, EventsRequest, GraphUpsert, LineageEvent
from mllineage.settings import Settings

Item = LineageEvent | GraphUpsert
Form = Literal["native", "graph", "openlineage"]
Located = tuple[tuple[str | int, ...], datetime | None]
Problem = dict[str, Any]

_OPENLINEAGE: TypeAdapter[Any] = TypeAdapter(OpenLineageEvent)
_NATIVE: TypeAdapter[Any] = TypeAdapter(EventsRequest)
_OL_TYPES = (RunEvent, JobEvent, DatasetEvent)  # the union's members, validated already
# Tags pydantic adds to locations inside tagged unions (one event or a batch; the three
# OpenLineage event types): not fields, so left out of messages.
UNION_TAGS = frozenset({"event", "batch", "run", "job", "dataset"})
SHOWN_PROBLEMS = 5


def location(loc: Sequence[Any]) -> str:
    """('body', 'batch', 'events', 3, 'kind') -> 'events[3].kind'."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    tag_at = 1 if parts and isinstance(parts[0], int) else 0
    if len(parts) > tag_at and parts[tag_at] in UNION_TAGS:
        del parts[tag_at]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def describe(problems: Sequence[Mapping[str, Any]]) -> str:
    """Problems as one line, ``where: what; ...``, the first few named and the rest counted."""
    parts = []
    for problem in problems[:SHOWN_PROBLEMS]:
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        where = location(problem["loc"])
        parts.append(f"{where}: {message}" if where else message)
    more = len(problems) - SHOWN_PROBLEMS
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


class Rejected(Exception):
    """An input that cannot become lineage; nothing of it is written. ``problems`` locate each
    fault in the input (pydantic's shape); the message names them."""

    def __init__(self, problems: Sequence[Mapping[str, Any]]) -> None:
        self.problems: list[Problem] = [dict(p) for p in problems]
        super().__init__(describe(self.problems))


def parse(raw: bytes) -> Any:
    """Bytes as strict JSON (no NaN, Infinity, lone surrogates or non-UTF-8); else Rejected."""
    try:
        return strict_json.loads(raw)
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 ({exc.reason} at byte {exc.start}); send JSON encoded as UTF-8"
    except json.JSONDecodeError as exc:
        msg = f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except (ValueError, RecursionError) as exc:
        msg = f"not JSON that can be read: {exc}"
    raise Rejected([{"type": "json_invalid", "loc": (), "msg": msg}])


def form_of(data: Any) -> Form:
    """Which form a JSON object is: OpenLineage events name their time ``eventTime`` and carry
    a ``schemaURL``; graph upserts have ``nodes`` or ``edges``; anything else is native."""
    if isinstance(data, Mapping):
        if "eventTime" in data or "schemaURL" in data:
            return "openlineage"
        if "nodes" in data or "edges" in data:
            return "graph"
    return "native"


def future_time_errors(times: Iterable[Located], skew: float) -> list[Problem]:
    """A problem for each time more than ``skew`` seconds ahead of this machine's clock.

    The newest event time wins a node's properties, so an event dated 2999 would make them
    unchangeable by every real event after it. ``times`` are (location in the input, time).
    """
    now = datetime.now(UTC)
    latest = now + timedelta(seconds=skew)
    return [
        {
            "type": "value_error",
            "loc": loc,
            "msg": f"{at.isoformat()} is more than {skew:g} s ahead of the server's clock "
            f"({now.isoformat(timespec='seconds')}); send the time the event happened "
            "(MLLINEAGE_MAX_CLOCK_SKEW_SECONDS sets the tolerance)",
            "input": at.isoformat(),
        }
        for loc, at in times
        if at is not None and at > latest
    ]


def _event_times(event: LineageEvent, at: tuple[str | int, ...]) -> list[Located]:
    """A native event's times with their places in the input (``at`` is the event's, with
    the tag of its union as pydantic gives it): its ``event_time`` and its run's times."""
    times: list[Located] = [((*at, "event_time"), event.event_time)]
    if event.run is not None:
        times += [((*at, "run", name), time) for name, time in event.run.times().items()]
    return times


# Where the native run's times come from in an OpenLineage event.
_RUN_TIME_FIELDS = {
    "nominal_start_time": ("run", "facets", "nominalTime", "nominalStartTime"),
    "nominal_end_time": ("run", "facets", "nominalTime", "nominalEndTime"),
}


def _openlineage_times(
    event: RunEvent | JobEvent | DatasetEvent, natives: list[Item]
) -> list[Located]:
    """An OpenLineage event's times, each with its place in the event."""
    times: list[Located] = [(("eventTime",), event.eventTime)]
    for native in natives:
        if isinstance(native, LineageEvent) and native.run is not None:
            times += [
                (("run", *_RUN_TIME_FIELDS.get(name, ("run", name))), time)  # "run": the tag
                for name, time in native.run.times().items()
            ]
    return times


def _from_openlineage(event: RunEvent | JobEvent | DatasetEvent, settings: Settings) -> list[Item]:
    """Feast's events by Feast's rules (``feast.py``), any other by the OpenLineage mapping."""
    if feast.is_feast(event):
        return feast.to_native(
            event,
            namespace=settings.openlineage_namespace,
            repo_paths=settings.feast_repo_paths,
        )
    native = to_native(
        event,
        namespace=settings.openlineage_namespace,
        default_process=settings.openlineage_default_process_kind,
    )
    return [native]


def _checked(data: Any, form: Form, settings: Settings) -> tuple[list[Item], list[Located]]:
    if form == "openlineage":
        parsed = data if isinstance(data, _OL_TYPES) else _OPENLINEAGE.validate_python(data)
        natives = _from_openlineage(parsed, settings)
        return natives, _openlineage_times(parsed, natives)
    if form == "graph":
        upsert = GraphUpsert.model_validate(data)
        return [upsert], [(("event_time",), upsert.event_time)]
    request = data if isinstance(data, LineageEvent | EventBatch) else _NATIVE.validate_python(data)
    if isinstance(request, EventBatch):
        events = request.events
        return list(events), [
            t for i, e in enumerate(events) for t in _event_times(e, ("batch", "events", i))
        ]
    return [request], _event_times(request, ("event",))


def take(data: Any, settings: Settings, form: Form | None = None) -> list[Item]:
    """One input (parsed JSON, or models already validated) as the items it holds, checked:
    OpenLineage mapped into the configured namespace, no time ahead of the clock beyond the
    configured skew. ``form`` is guessed (``form_of``) when not given. Raises Rejected."""
    try:
        items, times = _checked(data, form or form_of(data), settings)
    except ValidationError as exc:
        raise Rejected(exc.errors()) from None
    if late := future_time_errors(times, settings.max_clock_skew_seconds):
        raise Rejected(late)
    return items


def to_write(items: Iterable[Item], received_at: datetime | None = None) -> GraphDelta:
    """The one delta of a transaction for what was taken; an upsert without an
    ``event_time`` is dated ``received_at`` (now when not given)."""
    return to_delta(items, received_at=received_at or datetime.now(UTC))
