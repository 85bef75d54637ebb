"""OpenLineage's HTTP endpoints, where its clients and integrations post (as to Marquez).

A batch answers per item, as the spec's ``/lineage/batch`` does: the valid events land
together (one transaction) and each invalid one is listed with its index and the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, Field

from mllineage.api.body import StrictJsonRoute
from mllineage.api.deps import WRITE_ERRORS, SettingsDep, StoreDep, require
from mllineage.api.errors import validation_message
from mllineage.ingest.intake import Item, Problem, Rejected, take, to_write
from mllineage.ingest.openlineage import OpenLineageEvent
from mllineage.model.domain import MAX_EVENTS_PER_REQUEST
from mllineage.model.views import WriteSummary

router = APIRouter(
    prefix="/api/v1",
    tags=["openlineage"],
    dependencies=[require("write")],
    route_class=StrictJsonRoute,
)


class FailedEvent(BaseModel):
    index: int = Field(description="Position of the event in the array, from 0")
    reason: str = Field(description="What is wrong, naming the field and the fix")
    retriable: bool = Field(False, description="Never: the same event fails again")


class BatchCounts(BaseModel):
    received: int
    successful: int
    failed: int
    retriable: int = 0
    non_retriable: int


class BatchSummary(WriteSummary):
    """The write counts of what landed, and the spec's per-item answer."""

    status: Literal["success", "partial_success"]
    summary: BatchCounts
    failed_events: list[FailedEvent] = Field(default_factory=list)


@router.post(
    "/lineage",
    status_code=201,
    summary="Record one OpenLineage RunEvent, JobEvent or DatasetEvent",
    responses=WRITE_ERRORS,
)
async def post_lineage(
    body: OpenLineageEvent, store: StoreDep, settings: SettingsDep
) -> WriteSummary:
    return await store.write(to_write(take(body, settings, "openlineage")))


@router.post(
    "/lineage/batch",
    status_code=201,
    summary="Record a JSON array of OpenLineage events: the valid ones land in one "
    "transaction (201, or 200 with the failed ones listed); 422 when none is valid",
    responses=WRITE_ERRORS,
)
async def post_lineage_batch(
    body: Annotated[
        list[Any],
        Body(description="OpenLineage RunEvents, JobEvents or DatasetEvents"),
        Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST),
    ],
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
) -> BatchSummary:
    taken: list[Item] = []
    failed: list[FailedEvent] = []
    problems: list[Problem] = []
    for index, event in enumerate(body):
        try:
            taken += take(event, settings, "openlineage")
        except Rejected as exc:
            located = [{**p, "loc": (index, *p["loc"])} for p in exc.problems]
            problems += located
            failed.append(FailedEvent(index=index, reason=validation_message(located)))
    if failed and not taken:  # (an event may hold nothing to write: Feast's entities)
        raise Rejected(problems)
    written = await store.write(to_write(taken))
    if failed:
        response.status_code = 200
    return BatchSummary(
        **written.model_dump(),
        status="partial_success" if failed else "success",
        summary=BatchCounts(
            received=len(body),
            successful=len(body) - len(failed),
            failed=len(failed),
            non_retriable=len(failed),
        ),
        failed_events=failed,
    )
