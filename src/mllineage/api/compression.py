"""Request bodies sent with ``Content-Encoding: gzip`` (the OpenLineage HTTP transport's
``compression: gzip``), decompressed as they are read.

It sits between ``Authenticate`` and ``BodySizeLimit`` (see app.py): the token is checked
before a byte is read or inflated, and the size limit counts the *decompressed* bytes, so a
zip bomb is answered 413 as soon as it inflates past the limit. Each read inflates at most
``CHUNK`` bytes, so memory stays bounded by the limit itself.
"""

from __future__ import annotations

import zlib

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHUNK = 64 * 1024
GZIP = {b"gzip", b"x-gzip"}


class GunzipBody:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding == b"identity":
            await self.app(scope, receive, send)
            return
        # The app must not trust the compressed length, nor see an encoding it cannot read.
        # The scope is changed in place, not copied: Authenticate reads the route that the
        # router records in it.
        scope["headers"] = [
            (key, value)
            for key, value in scope["headers"]
            if key not in (b"content-encoding", b"content-length")
        ]
        await self.app(scope, self._inflating(receive, encoding), send)

    @staticmethod
    def _inflating(receive: Receive, encoding: bytes) -> Receive:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = b""  # compressed input not inflated yet
        more = True  # whether the client has more to send
        finished = False  # the whole body was handed on: what follows is not body

        async def inflating_receive() -> Message:
            nonlocal pending, more, finished
            if finished:
                return await receive()
            while True:
                if not pending and more:
                    message = await receive()  # the first one checks the token (guard.py)
                    if message["type"] != "http.request":
                        return message
                    if encoding not in GZIP:
                        raise HTTPException(
                            415,
                            f"Content-Encoding {encoding.decode('latin-1')[:50]!r} is not "
                            "supported; send the body uncompressed or with Content-Encoding: gzip",
                        )
                    pending, more = message.get("body", b""), message.get("more_body", False)
                try:
                    data = inflater.decompress(pending, CHUNK)
                except zlib.error as exc:
                    raise HTTPException(
                        400, f"the body is not valid gzip ({exc}); compress it with gzip"
                    ) from None
                pending = inflater.unconsumed_tail
                done = not more and not pending
                if done and not inflater.eof:
                    raise HTTPException(400, "the gzip body ends early; send all of it")
                if data or done:
                    finished = done
                    return {"type": "http.request", "body": data, "more_body": not done}

        return inflating_receive
