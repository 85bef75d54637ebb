"""Serving the API: check the configuration, start the local Neo4j if asked, run uvicorn.

``mllineage serve`` and ``make run`` come here; tests and the bench build the app themselves.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from mllineage.local import LocalNeo4j
from mllineage.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ServeError(RuntimeError):
    """A configuration the service refuses to serve with; the message says what to change."""


def serve(
    settings: Settings, local_neo4j: bool = False, log_level: str = "info", workers: int = 1
) -> None:
    """Serve on ``settings.host:settings.port`` until interrupted; with ``local_neo4j``,
    start the local server first (provisioning it once) and stop it on exit if we started it.
    Raises ``ServeError`` before starting anything when the configuration is refused."""
    import uvicorn

    from mllineage.api import create_app

    if settings.auth == "off" and settings.host not in LOOPBACK:
        raise ServeError(
            f"refusing to serve on {settings.host} with authentication off; "
            "configure API keys (mllineage keys create) or bind to 127.0.0.1"
        )
    server = LocalNeo4j(settings) if local_neo4j else None
    if server is not None:
        settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
    try:
        app = create_app(settings)
    except RuntimeError as exc:  # no API key while authentication is on
        raise ServeError(str(exc)) from None
    started = False
    if server is not None:
        if server.status().running:
            print("the local Neo4j is already running; using it", flush=True)
        else:
            print(
                "starting the local Neo4j (the first time downloads it with Maven)...", flush=True
            )
        status, started = server.start()
        print(status.describe(), flush=True)
    print(f"API docs:      http://{settings.host}:{settings.port}/docs", flush=True)
    if server is not None:
        print(f"Neo4j Browser: {server.browser_url} (user {settings.neo4j_user})", flush=True)
    try:
        if workers > 1:
            serve_workers(settings, workers, log_level)
        else:
            tune_gc_for_serving()
            uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)
    finally:
        if server is not None and started:
            server.stop()
            print("stopped the local Neo4j", flush=True)


def tune_gc_for_serving() -> None:
    """Keep the cyclic collector off the request path. A big walk allocates many short-lived
    objects, so with the default thresholds a collection, each one scanning every long-lived
    object of the app, runs every few walks. Frozen, the start-up objects are never scanned
    again; a larger young generation collects a few times per big walk instead of dozens."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


# --- Several worker processes (serve --workers N) ----------------------------------------


def serve_workers(settings: Settings, workers: int, log_level: str) -> None:
    """``workers`` uvicorn processes on one socket, each building the app from the environment
    (``worker_app``); Prometheus multiprocess mode in a fresh folder, so that ``/metrics``
    from any worker sums them all. Returns once uvicorn has stopped every worker."""
    import uvicorn

    from mllineage.local.api import environment

    metrics_dir = tempfile.mkdtemp(prefix="mllineage-metrics-")
    # Spawned workers inherit this environment: the settings (the local Neo4j's URI
    # included) and the metrics folder, which prometheus_client reads when imported.
    os.environ.update(environment(settings), PROMETHEUS_MULTIPROC_DIR=metrics_dir)
    try:
        uvicorn.run(
            f"{__name__}:worker_app",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            log_level=log_level,
        )
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app() -> FastAPI:
    """The app of one worker process, from the settings ``serve_workers`` put in its
    environment."""
    from mllineage.api import create_app

    app = create_app(Settings())
    tune_gc_for_serving()
    return app
