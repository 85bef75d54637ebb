"""Writing lineage: native events (one or a batch) and plain graph upserts."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from mllineage.api.body import StrictJsonRoute
from mllineage.api.deps import SettingsDep, StoreDep, require
from mllineage.api.limits import refuse_future_times
from mllineage.ingest.events import events_to_delta, to_delta
from mllineage.ingest.intake import event_times
from mllineage.model.domain import EventBatch, EventsRequest, GraphUpsert
from mllineage.model.views import WriteSummary

router = APIRouter(
    prefix="/v1", tags=["ingest"], dependencies=[require("write")], route_class=StrictJsonRoute
)

WRITE_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Body not UTF-8, or nested too deeply to parse; `message` says which"},
    413: {"description": "Body larger than the documented limit"},
    422: {"description": "Invalid input; `message` names the field and the fix; nothing written"},
    503: {"description": "Neo4j unavailable; nothing written; retry after `Retry-After`"},
}


@router.post(
    "/events",
    summary="Record one lineage event, or a batch {events: [...]}, in one transaction",
    responses=WRITE_ERRORS,
)
async def post_events(body: EventsRequest, store: StoreDep, settings: SettingsDep) -> WriteSummary:
    if isinstance(body, EventBatch):
        events = body.events
        times = [t for i, e in enumerate(events) for t in event_times(e, ("batch", "events", i))]
    else:
        events, times = [body], event_times(body, ("event",))
    refuse_future_times(times, settings.max_clock_skew_seconds)
    return await store.write(events_to_delta(events))


@router.post(
    "/graph",
    summary="Upsert nodes and edges that are facts rather than runs",
    responses=WRITE_ERRORS,
)
async def post_graph(body: GraphUpsert, store: StoreDep, settings: SettingsDep) -> WriteSummary:
    refuse_future_times([(("event_time",), body.event_time)], settings.max_clock_skew_seconds)
    return await store.write(to_delta([body], received_at=datetime.now(UTC)))
