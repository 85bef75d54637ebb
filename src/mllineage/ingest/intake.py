"""What every way in checks, HTTP or Kafka, before an event reaches the store: OpenLineage
mapped to native events with the configured namespace, and event times not ahead of the clock.

Pure: errors come back as pydantic-shaped dicts (``type``, ``loc``, ``msg``, ``input``), so the
API raises them as a 422 and the Kafka consumer writes them into a dead letter's headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from mllineage.ingest.openlineage import DatasetEvent, JobEvent, RunEvent, to_native
from mllineage.model.domain import GraphUpsert, LineageEvent
from mllineage.settings import Settings

Located = tuple[tuple[str | int, ...], datetime]
OpenLineageParsed = RunEvent | JobEvent | DatasetEvent


def future_time_errors(
    times: Iterable[tuple[tuple[str | int, ...], datetime | None]], skew: float
) -> list[dict[str, Any]]:
    """An error for each time more than ``skew`` seconds ahead of this machine's clock.

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


def event_times(event: LineageEvent, at: tuple[str | int, ...] = ()) -> list[Located]:
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


def openlineage_times(
    event: OpenLineageParsed, native: LineageEvent | GraphUpsert
) -> list[Located]:
    """An OpenLineage event's times, each with its place in the event."""
    times: list[Located] = [(("eventTime",), event.eventTime)]
    if isinstance(native, LineageEvent) and native.run is not None:
        times += [
            (("run", *_RUN_TIME_FIELDS.get(name, ("run", name))), time)  # "run": the union's tag
            for name, time in native.run.times().items()
        ]
    return times


def from_openlineage(event: OpenLineageParsed, settings: Settings) -> LineageEvent | GraphUpsert:
    """The native event of a parsed OpenLineage event, in the configured namespace; raises
    pydantic's ValidationError when it cannot be mapped (its times: ``openlineage_times``)."""
    return to_native(
        event,
        namespace=settings.openlineage_namespace,
        default_process=settings.openlineage_default_process_kind,
    )
