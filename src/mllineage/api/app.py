"""The FastAPI app factory: wires settings, the Neo4j driver and the routers once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mllineage.api import browser as neo4j_browser
from mllineage.api import (
    docs,
    entities,
    health,
    hooks,
    ingest,
    lifecycle,
    lineage,
    openlineage,
    runs,
)
from mllineage.api import metrics as api_metrics
from mllineage.api import notifications as notification_routes
from mllineage.api import reports as report_routes
from mllineage.api.auth import KeyRing, load_keys, redact_access_log
from mllineage.api.bookmarks import BookmarkHeader
from mllineage.api.compression import GunzipBody
from mllineage.api.errors import install_error_handlers
from mllineage.api.guard import Authenticate
from mllineage.api.limits import BodySizeLimit
from mllineage.notify.notifier import Notifier
from mllineage.settings import Settings
from mllineage.store import open_store

log = logging.getLogger("mllineage")


def keyring_for(settings: Settings) -> KeyRing | None:
    """The configured API keys, or None when authentication is explicitly off."""
    if settings.auth == "off":
        log.warning("authentication is OFF (MLLINEAGE_AUTH=off): for a loopback server only")
        return None
    keys = load_keys(settings.api_keys, settings.api_keys_file)
    if not keys:
        raise RuntimeError(
            "authentication is on but no API key is configured: create one with "
            "'mllineage keys create --name NAME --scopes read,write' and set "
            "MLLINEAGE_API_KEYS or MLLINEAGE_API_KEYS_FILE (or MLLINEAGE_AUTH=off on 127.0.0.1)"
        )
    return KeyRing(keys)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_store(settings) as store:
            app.state.store = store
            # Owner notifications: a background sender, only when webhooks are configured.
            app.state.notifier = Notifier(settings, store) if settings.webhooks else None
            if app.state.notifier:
                app.state.notifier.start()
            try:
                yield
            finally:
                if app.state.notifier:
                    await app.state.notifier.stop()

    app = FastAPI(
        title="mllineage",
        version="0.1.0",
        summary="Lineage of machine-learning work: data sources to features to models to "
        "endpoints, on Neo4j.",
        lifespan=lifespan,
        docs_url=None,  # served from local files by api/docs.py
        redoc_url=None,
    )
    docs.install(app)
    app.state.settings = settings
    app.state.keyring = keyring_for(settings)
    redact_access_log()
    app.add_middleware(BookmarkHeader)  # Neo4j-Bookmarks in and out (api/bookmarks.py)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(GunzipBody)  # outside the limit, so it counts the inflated bytes
    app.add_middleware(Authenticate)  # added last, so it runs first: before any body is read
    # Prometheus /metrics and the request series; its middleware wraps all the others.
    api_metrics.install(app)
    install_error_handlers(app)
    for module in (health, ingest, lifecycle, entities, lineage, runs, openlineage, hooks):
        app.include_router(module.router)
    app.include_router(report_routes.router)
    app.include_router(notification_routes.router)
    # The Neo4j Browser's style and guide: open, static, with CORS (api/browser.py).
    app.include_router(neo4j_browser.router)
    return app
