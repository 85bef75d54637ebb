"""The API on a free local port, for the tests and the benchmarks.

In a thread of this process by default: the tests build apps with their own settings and read
the server's logs. With ``subprocess=True``, as ``mllineage serve`` in a child process: a load
generator then does not share the server's GIL, and the server runs as it is deployed.
"""

from __future__ import annotations

import json
import os
import subprocess as sub
import sys
import threading
import time
from enum import Enum
from typing import TYPE_CHECKING

import httpx
from pydantic import SecretStr

from mllineage.local.java import free_port
from mllineage.settings import Settings

if TYPE_CHECKING:
    import uvicorn

START_TIMEOUT = 60.0


class LocalApi:
    """A real API server on 127.0.0.1 and a free port; a context manager that stops it."""

    def __init__(
        self,
        settings: Settings,
        *,
        subprocess: bool = False,
        log_level: str = "warning",
        workers: int = 1,
    ) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_level = log_level
        if workers > 1 and not subprocess:
            raise ValueError("several workers run only in a subprocess (serve --workers)")
        self.workers = workers
        self.process: sub.Popen[bytes] | None = None
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        if not subprocess:
            # Imported here: the CLI imports this package and must not pay for the API.
            import uvicorn

            from mllineage.api import create_app

            config = uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=self.port, log_level=log_level
            )
            self.server = uvicorn.Server(config)
            self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def pid(self) -> int:
        """The process serving the API (this one when it runs in a thread)."""
        return self.process.pid if self.process else os.getpid()

    def start(self) -> LocalApi:
        """Start serving and return once the server accepts requests (Neo4j may still be down:
        ``wait_ready`` waits for that)."""
        deadline = time.monotonic() + START_TIMEOUT
        if self.server is not None and self.thread is not None:
            self.thread.start()
            while not self.server.started:
                if time.monotonic() > deadline or not self.thread.is_alive():
                    raise RuntimeError("the API server did not start")
                time.sleep(0.02)
            return self
        command = [sys.executable, "-m", "mllineage.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", self.log_level]
        if self.workers > 1:  # only then: a baseline tree's serve may predate the option
            command += ["--workers", str(self.workers)]
        self.process = sub.Popen(command, env=environment(self.settings), stdout=sub.DEVNULL)
        while not self._answers("/healthz"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the API server did not start")
            time.sleep(0.1)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until /readyz says 200: the API reaches Neo4j and the schema is in place."""
        deadline = time.monotonic() + timeout
        while not self._answers("/readyz"):
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not become ready")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=30)
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except sub.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> LocalApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answers(self, path: str) -> bool:
        try:
            return httpx.get(self.url + path, timeout=10).status_code == 200
        except httpx.HTTPError:
            return False


def environment(settings: Settings) -> dict[str, str]:
    """This process's environment with ``MLLINEAGE_*`` replaced by these settings, so that a
    child's ``Settings()`` reads the same values (secrets included)."""
    prefix = Settings.model_config["env_prefix"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefix)}
    for name, value in settings:
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        env[f"{prefix}{name}".upper()] = str(value)
    return env
