"""The ``Neo4j-Bookmarks`` header: read-your-writes across API replicas on a Neo4j cluster.

A write answers with the bookmarks of its transaction; a request that sends them back has its
reads wait until the server that serves them has applied that transaction. The values are
opaque strings from Neo4j: here they are only checked for size and shape, so a bad header is
a clear 4xx before anything reaches Neo4j (which judges the rest: store/database.py).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.api.errors import error_response
from mllineage.store import bookmarks

HEADER = "Neo4j-Bookmarks"
_KEY = HEADER.lower().encode()
MAX_HEADER_CHARS = 4096
MAX_BOOKMARKS = 16
# Neo4j 5's bookmarks are short base64 text after a prefix ("FB:kcwQ...").
BOOKMARK = re.compile(r"[A-Za-z0-9+/=:_.-]{1,512}")


class BadHeader(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse(values: list[bytes]) -> tuple[str, ...]:
    """The bookmarks of the header's lines (comma-separated), or ``BadHeader``."""
    if sum(len(value) for value in values) > MAX_HEADER_CHARS:
        raise BadHeader(
            431, f"the {HEADER} header is longer than {MAX_HEADER_CHARS} characters; send only "
            "the value of the last write's answer",
        )  # fmt: skip
    try:
        text = b",".join(values).decode("ascii")
    except UnicodeDecodeError:
        raise BadHeader(422, f"the {HEADER} header must be ASCII, as a write answered it") from None
    found = tuple(sorted({part.strip() for part in text.split(",") if part.strip()}))
    if len(found) > MAX_BOOKMARKS:
        raise BadHeader(422, f"the {HEADER} header holds more than {MAX_BOOKMARKS} bookmarks")
    if bad := [part for part in found if not BOOKMARK.fullmatch(part)]:
        raise BadHeader(
            422, f"the {HEADER} header holds {bad[0][:40]!r}, not a bookmark; send the value a "
            "write answered with, unchanged, or no header",
        )  # fmt: skip
    return found


class BookmarkHeader:
    """Pure ASGI middleware: the request's bookmarks in, its write's bookmarks out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            wait_for = parse([value for key, value in scope["headers"] if key == _KEY])
        except BadHeader as exc:
            await error_response(exc.status, str(exc))(scope, receive, send)
            return
        request = bookmarks.RequestBookmarks(wait_for, f"the {HEADER} header's values")

        async def send_written(message: Message) -> None:
            if message["type"] == "http.response.start" and request.written:
                value = ",".join(request.written).encode()
                message = {**message, "headers": [*message.get("headers", []), (_KEY, value)]}
            await send(message)

        token = bookmarks.current.set(request)
        try:
            await self.app(scope, receive, send_written)
        finally:
            bookmarks.current.reset(token)
