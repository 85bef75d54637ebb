"""A throw-away local Neo4j and an API process beside it, for the benchmarks and the soak."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from mllineage.local import LocalNeo4j, free_port
from mllineage.settings import Settings

PASSWORD = "mllineage-bench"


class Api:
    """``mllineage serve`` in its own process, so the load generator does not share its GIL."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "MLLINEAGE_NEO4J_URI": settings.neo4j_uri,
            "MLLINEAGE_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
            "MLLINEAGE_AUTH": settings.auth,
            "MLLINEAGE_API_KEYS": settings.api_keys or "",
        }
        command = [sys.executable, "-m", "mllineage.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the API did not become ready")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)

    def rss_mb(self) -> float:
        """The API process's resident memory, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def running_stack(**overrides: object) -> Iterator[tuple[Settings, LocalNeo4j, Api]]:
    """Neo4j (heap and page cache 1 GB) on free ports in a temporary folder, and the API."""
    with tempfile.TemporaryDirectory(prefix="mllineage-bench-") as folder:
        fields: dict[str, object] = {
            "auth": "off",
            "neo4j_instance_dir": Path(folder),
            "neo4j_bolt_port": free_port(),
            "neo4j_http_port": free_port(),
            "neo4j_password": SecretStr(PASSWORD),
            "neo4j_heap": "1g",
            "neo4j_pagecache": "1g",
        }
        settings = Settings(**{**fields, **overrides})  # type: ignore[arg-type]
        server = LocalNeo4j(settings)
        server.start()
        settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
        api = Api(settings)
        try:
            yield settings, server, api
        finally:
            api.close()
            server.stop()
