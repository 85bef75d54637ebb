"""One table from domain errors to HTTP statuses, and JSON problem bodies for all of them.

Every error body has ``message`` (one readable sentence naming the field and the fix);
validation errors keep FastAPI's ``detail`` list with the location of each problem.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from mllineage.errors import (
    Forbidden,
    InvalidInput,
    LineageError,
    NotFound,
    Unauthenticated,
    Unavailable,
)

STATUS: dict[type[LineageError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    InvalidInput: 422,
    Unavailable: 503,
}
HEADERS: dict[int, dict[str, str]] = {401: {"WWW-Authenticate": "Bearer"}}
RETRY_AFTER_SECONDS = "5"


# Tags pydantic adds to locations inside tagged unions (one event or a batch; the three
# OpenLineage event types): not fields, so left out of messages.
_UNION_TAGS = frozenset({"event", "batch", "run", "job", "dataset"})


def _location(loc: tuple[Any, ...]) -> str:
    """('body', 'batch', 'events', 3, 'kind') -> 'events[3].kind'."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    tag_at = 1 if parts and isinstance(parts[0], int) else 0
    if len(parts) > tag_at and parts[tag_at] in _UNION_TAGS:
        del parts[tag_at]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "body"


def validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{_location(tuple(error.get('loc', ())))}: {message}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            status_code=422,
            content=jsonable_encoder(
                {"message": validation_message(errors), "detail": errors},
                custom_encoder={Exception: str},
            ),
        )

    @app.exception_handler(LineageError)
    async def domain_error(request: Request, exc: LineageError) -> JSONResponse:
        status = STATUS.get(type(exc), 500)
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else HEADERS.get(status)
        return JSONResponse(status_code=status, content={"message": str(exc)}, headers=headers)
