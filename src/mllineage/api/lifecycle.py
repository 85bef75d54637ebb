"""Lifecycle calls (deprecate, retire, restore, purge, end edges), the what-if gate, and the
view (``as_of``, ``include_retired``) that every read takes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from mllineage.api.body import StrictJsonRoute
from mllineage.api.deps import NotifierDep, SettingsDep, StoreDep, require
from mllineage.api.guard import authorize
from mllineage.ingest.intake import Rejected, future_time_errors
from mllineage.model.domain import MAX_LIMIT, MAX_NAME_LENGTH
from mllineage.model.errors import InvalidInput
from mllineage.model.lifecycle import (
    LIVE,
    DeprecateIn,
    EndEdgesIn,
    RestoreIn,
    RetireIn,
    View,
    WhatIfIn,
)
from mllineage.model.views import WhatIfReport
from mllineage.notify.notifier import Job
from mllineage.settings import Settings

router = APIRouter(prefix="/v1", tags=["lifecycle"], route_class=StrictJsonRoute)

EntityUid = Annotated[str, Path(min_length=5, max_length=MAX_NAME_LENGTH + 200)]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No entity (or edge) with that uid; nothing written"},
    422: {"description": "Invalid input; `message` names the field and the fix; nothing written"},
}


def _event_time(given: datetime | None, settings: Settings) -> datetime:
    """The given event time (refused when too far ahead), else the server's clock."""
    if late := future_time_errors([(("event_time",), given)], settings.max_clock_skew_seconds):
        raise Rejected(late)
    return given or datetime.now(UTC)


@router.post(
    "/entities/{uid:path}/deprecate",
    summary="Mark an entity deprecated (still live), naming its replacement",
    dependencies=[require("write")],
    responses=ERRORS,
)
async def deprecate(
    uid: EntityUid,
    body: DeprecateIn,
    store: StoreDep,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> dict[str, Any]:
    at = _event_time(body.event_time, settings)
    await store.lifecycle.deprecate(uid, reason=body.reason, replaced_by=body.replaced_by, at=at)
    if notifier:  # still live: the notifier asks what it feeds
        notifier.submit(Job("deprecated", [uid], at, body.reason))
    return {"uid": uid, "event_time": at}


@router.post(
    "/entities/{uid:path}/retire",
    summary="Retire an entity: out of the live graph from event_time, its edges with it",
    dependencies=[require("write")],
    responses=ERRORS,
)
async def retire(
    uid: EntityUid,
    body: RetireIn,
    store: StoreDep,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> dict[str, Any]:
    at = _event_time(body.event_time, settings)
    # Once retired it feeds nothing live: what it feeds is asked first (one read walk, only
    # when webhooks are configured); the sending happens in the background.
    hit = await store.lifecycle.what_if([uid], view=LIVE, limit=MAX_LIMIT) if notifier else None
    await store.lifecycle.retire(uid, reason=body.reason, at=at)
    if notifier and hit:
        notifier.submit(Job("retired", [uid], at, body.reason, hit))
    return {"uid": uid, "event_time": at}


@router.post(
    "/entities/{uid:path}/restore",
    summary="Undo the retirements older than event_time",
    dependencies=[require("write")],
    responses=ERRORS,
)
async def restore(
    uid: EntityUid, body: RestoreIn, store: StoreDep, settings: SettingsDep
) -> dict[str, Any]:
    at = _event_time(body.event_time, settings)
    await store.lifecycle.restore(uid, at=at)
    return {"uid": uid, "event_time": at}


@router.delete(
    "/entities/{uid:path}",
    summary="Purge an entity, its edges and its run links for good (admin scope)",
    dependencies=[require("admin")],
    responses={404: ERRORS[404], 403: {"description": "The API key lacks the admin scope"}},
)
async def purge(uid: EntityUid, store: StoreDep) -> dict[str, Any]:
    await store.lifecycle.purge(uid)
    return {"uid": uid, "purged": True}


@router.post(
    "/edges/end",
    summary="End edges at event_time (e.g. an endpoint stopped serving a model)",
    dependencies=[require("write")],
    responses=ERRORS,
)
async def end_edges(body: EndEdgesIn, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    at = _event_time(body.event_time, settings)
    ended = await store.lifecycle.end_edges(body.edges, at=at)
    return {"ended": ended, "event_time": at}


@router.post(
    "/impact/what-if",
    summary="Which live endpoints and models would lose an input if these were retired",
    dependencies=[require("read")],
    responses=ERRORS,
)
async def what_if(
    body: WhatIfIn, store: StoreDep, request: Request, notifier: NotifierDep
) -> WhatIfReport:
    if body.notify:
        # Telling owners is acting on their behalf: it takes the write scope.
        authorize(request.app.state.keyring, request.headers.get("authorization"), "write")
        if notifier is None:
            raise InvalidInput("notify: no webhook is configured (set MLLINEAGE_WEBHOOKS)")
    report = await store.lifecycle.what_if(body.retire, view=View(body.as_of), limit=MAX_LIMIT)
    if notifier and body.notify:
        notifier.submit(Job("what-if", report.retire, body.as_of, None, report))
    return report
