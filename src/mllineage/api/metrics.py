"""Prometheus ``/metrics``: requests by route and status, their latency, and the write path's
series (store/metrics.py).

Requests are labelled by route template (``/v1/entities/{uid}``), never by raw path, so a
caller cannot grow the label set. ``/metrics`` answers loopback clients without a token (a
scraper on the same host, or a sidecar) and anyone else only with the ``admin`` scope.
"""

from __future__ import annotations

import os
import time
from ipaddress import ip_address
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.api.guard import authorize
from mllineage.store.metrics import REGISTRY

REQUESTS = Counter(
    "mllineage_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "mllineage_http_request_seconds",
    "From the request's arrival to its last byte sent, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404 or 405)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RecordRequests:
    """Count and time every HTTP request; outermost, so refusals (401, 413) count too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            # Routing stores the matched route in the scope it was handed: this one.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "other"
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - began)


def is_loopback(host: str | None) -> bool:
    try:
        address = ip_address(host or "")
    except ValueError:  # not an address (a test client's name, a Unix socket)
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def loopback_or_admin(request: Request) -> None:
    """Behind a reverse proxy on this host, uvicorn takes the client from X-Forwarded-For
    (its ``forwarded_allow_ips``), so remote callers still need the admin scope."""
    if is_loopback(request.client.host if request.client else None):
        return
    authorize(request.app.state.keyring, request.headers.get("authorization"), "admin")


def exposition() -> bytes:
    """This process's series, or all workers' under ``serve --workers`` (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (loopback clients, or the admin scope)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(_: Annotated[None, Depends(loopback_or_admin)]) -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """Add the route and the recording middleware; call after the other middleware, so this
    one runs first."""
    app.include_router(router)
    app.add_middleware(RecordRequests)
