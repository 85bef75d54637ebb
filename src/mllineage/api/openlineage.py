"""OpenLineage's HTTP endpoints, where its clients and integrations post (as to Marquez).

A batch answers per item, as the spec's ``/lineage/batch`` does: the valid events land
together (one transaction) and each invalid one is listed with its index and the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from mllineage.api.body import StrictJsonRoute
from mllineage.api.deps import SettingsDep, StoreDep, require
from mllineage.api.errors import validation_message
from mllineage.api.ingest import WRITE_ERRORS
from mllineage.api.limits import refuse_future_times
from mllineage.ingest.events import to_delta
from mllineage.ingest.intake import from_openlineage, openlineage_times
from mllineage.ingest.openlineage import DatasetEvent, JobEvent, OpenLineageEvent, RunEvent
from mllineage.model.domain import MAX_EVENTS_PER_REQUEST, GraphUpsert, LineageEvent
from mllineage.model.views import WriteSummary
from mllineage.settings import Settings

router = APIRouter(
    prefix="/api/v1",
    tags=["openlineage"],
    dependencies=[require("write")],
    route_class=StrictJsonRoute,
)

_EVENT: TypeAdapter[Any] = TypeAdapter(OpenLineageEvent)


def _native(event: Any, settings: Settings) -> LineageEvent | GraphUpsert:
    """One event, checked and mapped; RequestValidationError (locations from the event)."""
    try:
        parsed: RunEvent | JobEvent | DatasetEvent = (
            event
            if isinstance(event, RunEvent | JobEvent | DatasetEvent)
            else _EVENT.validate_python(event)
        )
        native = from_openlineage(parsed, settings)
        refuse_future_times(openlineage_times(parsed, native), settings.max_clock_skew_seconds)
        return native
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


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
    native = _native(body, settings)
    return await store.write(to_delta([native], received_at=datetime.now(UTC)))


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
    native: list[LineageEvent | GraphUpsert] = []
    failed: list[FailedEvent] = []
    errors: list[dict[str, Any]] = []
    for index, event in enumerate(body):
        try:
            native.append(_native(event, settings))
        except RequestValidationError as exc:
            located = [{**e, "loc": ("body", index, *e["loc"][1:])} for e in exc.errors()]
            errors += located
            failed.append(FailedEvent(index=index, reason=validation_message(located)))
    if not native:
        raise RequestValidationError(errors)
    written = await store.write(to_delta(native, received_at=datetime.now(UTC)))
    if failed:
        response.status_code = 200
    return BatchSummary(
        **written.model_dump(),
        status="partial_success" if failed else "success",
        summary=BatchCounts(
            received=len(body),
            successful=len(native),
            failed=len(failed),
            non_retriable=len(failed),
        ),
        failed_events=failed,
    )
