"""One mllineage service over httpx: the token, the base URL, and the retries.

A 503 or a lost connection is retried, honouring ``Retry-After``, for up to ``retry_seconds``:
every write of the API is idempotent, so sending one again is safe. A read whose connection
is refused (no service listens there) gives up after ``REFUSED_READ_SECONDS``: a person
waits on it, and no data is at stake.

The ``Neo4j-Bookmarks`` of the last write's answer go with the next requests, so a client
reads its own writes even when another API replica serves the read (docs/scaling-and-operations.md).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import httpx

from mllineage.client.errors import LineageAPIError

DEFAULT_URL = "http://127.0.0.1:8000"
RETRY_SECONDS = 60.0
REFUSED_READ_SECONDS = 3.0
# The request never reached the service, or the connection broke: safe to send again.
RETRIED_ERRORS = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)

log = logging.getLogger("mllineage.client")
BOOKMARKS = "Neo4j-Bookmarks"


class Transport:
    """Calls of one service; ``url`` and ``token`` default to MLLINEAGE_URL, MLLINEAGE_TOKEN."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
        retry_seconds: float | None = None,
    ) -> None:
        token = token or os.environ.get("MLLINEAGE_TOKEN")
        if retry_seconds is None:
            retry_seconds = float(os.environ.get("MLLINEAGE_RETRY_SECONDS", RETRY_SECONDS))
        self.retry_seconds = retry_seconds
        self.url = url or os.environ.get("MLLINEAGE_URL", DEFAULT_URL)
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
        self.bookmarks: str | None = None  # the last write's, sent with every request

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One request. A 503 or a connection error is retried, honouring Retry-After, for
        up to ``retry_seconds`` (every write is idempotent), with a warning at each wait."""
        deadline = time.monotonic() + self.retry_seconds
        refused_deadline = time.monotonic() + min(REFUSED_READ_SECONDS, self.retry_seconds)
        attempt = 0
        while True:
            refused_read = False
            try:
                response = self._http.request(method, path, **self._with_bookmarks(kwargs))
            except httpx.HTTPError as exc:
                refused_read = method == "GET" and isinstance(exc, httpx.ConnectError)
                if (
                    not isinstance(exc, RETRIED_ERRORS)
                    or time.monotonic() >= deadline
                    or (refused_read and time.monotonic() >= refused_deadline)
                ):
                    raise LineageAPIError(0, f"cannot reach {self.url}: {exc}") from exc
                reason, wait = f"cannot reach {self.url} ({exc})", None
            else:
                self._remember(response)
                if response.status_code != 503 or time.monotonic() >= deadline:
                    return _answer(response)
                reason = f"503: {LineageAPIError.from_response(response).message}"
                wait = _retry_after(response)
            attempt += 1
            left = (refused_deadline if refused_read else deadline) - time.monotonic()
            wait = max(0.0, min(wait or min(2.0**attempt, 10.0), left))
            log.warning("%s %s: %s; retrying in %.1f s (for %.0f s more)", method, path,
                        reason, wait, left)  # fmt: skip
            time.sleep(wait)

    def _remember(self, response: httpx.Response) -> None:
        """Keep a write's bookmarks; forget them when the service says it cannot use them
        (say, a database restored from a backup), so later calls do not keep failing."""
        if response.is_error and BOOKMARKS in response.text:
            self.bookmarks = None
        self.bookmarks = response.headers.get(BOOKMARKS, self.bookmarks)

    def _with_bookmarks(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.bookmarks is None:
            return kwargs
        return {**kwargs, "headers": {BOOKMARKS: self.bookmarks, **kwargs.get("headers", {})}}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful answer (every answer of the API is one)."""
    if response.is_error:
        raise LineageAPIError.from_response(response)
    answer: dict[str, Any] = response.json()
    return answer
