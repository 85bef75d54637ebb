"""HTTP from the bench with the standard library's client: the bench times the service, and
httpx's own Python costs about ten times the standard client's per request (bench/README.md,
"Group commit"), on the same two cores the API and Neo4j use."""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx


def auth_header(client: httpx.Client) -> dict[str, str]:
    """The API key an httpx client of the bench sends, for a PlainHttp beside it."""
    return {"Authorization": client.headers["Authorization"]}


class PlainHttp:
    """Requests on one keep-alive connection."""

    IDLE = 2.0  # seconds; uvicorn closes a connection idle for 5
    JSON = {"Content-Type": "application/json"}

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=600)
        self.headers = dict(headers or {})
        self.used = 0.0

    def get(self, path: str) -> tuple[float, bytes]:
        """(ms, body) of a GET answered 2xx."""
        return self.request("GET", path)

    def post(self, path: str, body: bytes) -> tuple[float, bytes]:
        """(ms, body) of a POST of JSON ``body`` answered 2xx."""
        return self.request("POST", path, body)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[float, bytes]:
        """(ms, body) of a request answered 2xx; a connection the server may have closed is
        opened afresh before the clock starts."""
        if time.monotonic() - self.used > self.IDLE:
            self.connection.close()
            self.connection.connect()
        began = time.perf_counter()
        headers = self.headers if body is None else {**self.headers, **self.JSON}
        self.connection.request(method, path, body, headers=headers)
        reply = self.connection.getresponse()
        answer = reply.read()
        elapsed = (time.perf_counter() - began) * 1000
        self.used = time.monotonic()
        if not 200 <= reply.status < 300:
            raise RuntimeError(f"{method} {path}: {reply.status} {answer[:200]!r}")
        return elapsed, answer


def post_all(
    url: str, bodies: list[Any], clients: int, headers: dict[str, str] | None = None
) -> float:
    """Seconds for ``clients`` concurrent clients (threads, a connection each) to post every
    body to ``/v1/events``, one per request."""
    encoded = iter([json.dumps(body).encode() for body in bodies])
    lock = threading.Lock()

    def one_client() -> None:
        http = PlainHttp(url, headers)
        while True:
            with lock:
                body = next(encoded, None)
            if body is None:
                return
            http.post("/v1/events", body)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for done in [pool.submit(one_client) for _ in range(clients)]:
            done.result()
    return time.perf_counter() - began
