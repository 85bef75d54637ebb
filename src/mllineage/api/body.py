"""Request bodies parsed as strict JSON (``ingest.strict_json``) on the routes that read one.

FastAPI parses a body with ``Request.json()``; routers that take bodies are built with
``route_class=StrictJsonRoute``, whose requests parse with the strict parser instead, so NaN,
Infinity, lone surrogates and non-UTF-8 bytes never reach a model (FastAPI answers them as
invalid JSON, or the error handlers as a body that is not UTF-8).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from mllineage.ingest import strict_json


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json.loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
