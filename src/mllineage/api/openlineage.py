"""OpenLineage's HTTP endpoints, where its clients and integrations post (as to Marquez)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError

from mllineage.api.body import StrictJsonRoute
from mllineage.api.deps import SettingsDep, StoreDep, require
from mllineage.api.ingest import WRITE_ERRORS
from mllineage.api.limits import Located, refuse_future_times
from mllineage.domain import MAX_EVENTS_PER_REQUEST, GraphUpsert, LineageEvent
from mllineage.events import to_delta
from mllineage.openlineage import OpenLineageEvent, to_native
from mllineage.settings import Settings
from mllineage.views import WriteSummary

router = APIRouter(
    prefix="/api/v1",
    tags=["openlineage"],
    dependencies=[require("write")],
    route_class=StrictJsonRoute,
)


def _translate(
    events: list[OpenLineageEvent], settings: Settings, batch: bool
) -> list[LineageEvent | GraphUpsert]:
    """Map every event, or answer 422 naming the first one that cannot be mapped."""
    native = []
    for index, event in enumerate(events):
        try:
            native.append(
                to_native(
                    event,
                    namespace=settings.openlineage_namespace,
                    default_process=settings.openlineage_default_process_kind,
                )
            )
        except ValidationError as exc:
            where = ("body", index) if batch else ("body",)
            raise RequestValidationError(
                [{**error, "loc": (*where, *error["loc"])} for error in exc.errors()]
            ) from None
    return native


# Where the native run's times come from in an OpenLineage event.
_RUN_TIME_FIELDS = {
    "nominal_start_time": ("run", "facets", "nominalTime", "nominalStartTime"),
    "nominal_end_time": ("run", "facets", "nominalTime", "nominalEndTime"),
}


def _times(
    event: OpenLineageEvent, native: LineageEvent | GraphUpsert, at: tuple[int, ...] = ()
) -> list[Located]:
    """The event's times, each with its place in the body, to check against the clock."""
    times: list[Located] = [((*at, "eventTime"), event.eventTime)]
    if isinstance(native, LineageEvent) and native.run is not None:
        times += [
            ((*at, "run", *_RUN_TIME_FIELDS.get(name, ("run", name))), time)  # "run": the tag
            for name, time in native.run.times().items()
        ]
    return times


@router.post(
    "/lineage",
    status_code=201,
    summary="Record one OpenLineage RunEvent, JobEvent or DatasetEvent",
    responses=WRITE_ERRORS,
)
async def post_lineage(
    body: OpenLineageEvent, store: StoreDep, settings: SettingsDep
) -> WriteSummary:
    native = _translate([body], settings, batch=False)
    refuse_future_times(_times(body, native[0]), settings.max_clock_skew_seconds)
    return await store.write(to_delta(native, received_at=datetime.now(UTC)))


@router.post(
    "/lineage/batch",
    status_code=201,
    summary="Record a JSON array of OpenLineage events in one transaction",
    responses=WRITE_ERRORS,
)
async def post_lineage_batch(
    body: Annotated[list[OpenLineageEvent], Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)],
    store: StoreDep,
    settings: SettingsDep,
) -> WriteSummary:
    native = _translate(body, settings, batch=True)
    times = [
        t for i, pair in enumerate(zip(body, native, strict=True)) for t in _times(*pair, (i,))
    ]
    refuse_future_times(times, settings.max_clock_skew_seconds)
    return await store.write(to_delta(native, received_at=datetime.now(UTC)))
