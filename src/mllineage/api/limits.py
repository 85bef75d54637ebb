"""The body size limit (413), counted before the body is read, chunked or not."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.api.errors import error_response


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length, and counts streamed bytes without one.

    A chunked body is answered 413 the moment it passes the limit, from inside ``receive``:
    the app's own handling of the aborted read (FastAPI turns any failure to read a body
    into a 400) is then dropped, as the answer has already gone out.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        seen = 0
        started = rejected = False

        async def counting_receive() -> Message:
            nonlocal seen, rejected
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                if not started and not rejected:
                    rejected = True
                    await self._reject(scope, receive, send)
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started and not rejected:
                await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = (
            f"the request body is larger than {self.max_bytes} bytes "
            "(MLLINEAGE_MAX_BODY_BYTES); split it into several requests"
        )
        await error_response(413, message)(scope, receive, send)
