"""Liveness and readiness probes (always open: load balancers and compose call them)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mllineage.api.deps import StoreDep

router = APIRouter(tags=["health"])

READY_WITHIN_SECONDS = 1.0  # a probe must answer fast, even while Neo4j does not


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Neo4j answers and the schema is online",
    responses={503: {"description": "Not ready; `message` says why"}},
)
async def readyz(store: StoreDep) -> JSONResponse:
    """Only reads, as an open probe must: when not ready the store's schema keeper is asked
    to check, and it restores the schema in the background (see store/schema.py)."""
    reason = await store.readiness(probe_seconds=READY_WITHIN_SECONDS)
    if reason is not None:
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "message": reason},
            headers={"Retry-After": "5"},
        )
    return JSONResponse(content={"status": "ready"})
