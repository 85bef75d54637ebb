"""Writing lineage: native events (one or a batch) and plain graph upserts."""

from __future__ import annotations

from fastapi import APIRouter

from mllineage.api.body import StrictJsonRoute
from mllineage.api.deps import WRITE_ERRORS, SettingsDep, StoreDep, require
from mllineage.ingest.intake import take, to_write
from mllineage.model.domain import EventsRequest, GraphUpsert
from mllineage.model.views import WriteSummary

router = APIRouter(
    prefix="/v1", tags=["ingest"], dependencies=[require("write")], route_class=StrictJsonRoute
)


@router.post(
    "/events",
    summary="Record one lineage event, or a batch {events: [...]}, in one transaction",
    responses=WRITE_ERRORS,
)
async def post_events(body: EventsRequest, store: StoreDep, settings: SettingsDep) -> WriteSummary:
    return await store.write(to_write(take(body, settings, "native")))


@router.post(
    "/graph",
    summary="Upsert nodes and edges that are facts rather than runs",
    responses=WRITE_ERRORS,
)
async def post_graph(body: GraphUpsert, store: StoreDep, settings: SettingsDep) -> WriteSummary:
    return await store.write(to_write(take(body, settings, "graph")))
