"""The FastAPI app factory: wires settings, the Neo4j driver and the routers once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from neo4j import AsyncGraphDatabase

from mllineage.api import entities, health, ingest, lineage, openlineage
from mllineage.api.errors import install_error_handlers
from mllineage.api.limits import BodySizeLimit
from mllineage.errors import Unavailable
from mllineage.settings import Settings
from mllineage.store import Store

log = logging.getLogger("mllineage")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = AsyncGraphDatabase.driver(
            settings.neo4j_uri,
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
            max_transaction_retry_time=settings.neo4j_retry_seconds,
            connection_timeout=settings.neo4j_connection_timeout,
            connection_acquisition_timeout=settings.neo4j_connection_timeout,
        )
        store = Store(driver, settings.neo4j_database, settings.schema_file)
        try:
            await store.apply_schema()
        except Unavailable as exc:
            # Start anyway: /readyz reports 503 and applies the schema once Neo4j is back.
            log.warning("schema not applied at start-up: %s", exc)
        app.state.store = store
        try:
            yield
        finally:
            await driver.close()

    app = FastAPI(
        title="mllineage",
        version="0.1.0",
        summary="Lineage of machine-learning work: data sources to features to models to "
        "endpoints, on Neo4j.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    for module in (health, ingest, entities, lineage, openlineage):
        app.include_router(module.router)
    return app
