"""One table from domain errors to HTTP statuses, and JSON problem bodies for all of them.

Every error body has ``message`` (one readable sentence naming the field and the fix);
validation errors keep FastAPI's ``detail`` list with the location of each problem. What a
client sent is only ever echoed as a short excerpt made JSON-safe (no NaN, no lone
surrogates), so no input can make an error answer fail or grow with the input.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mllineage.ingest.intake import Rejected, location
from mllineage.model.errors import (
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
EXCERPT_CHARS = 200
MESSAGE_CHARS = 2_000
MAX_DETAILS = 5  # the problems the message names; the rest are counted there

_repr = reprlib.Repr()  # bounded: depth 3, a few items, short strings (whatever the input)
_repr.maxlevel, _repr.maxdict, _repr.maxlist, _repr.maxstring, _repr.maxlong = 3, 5, 5, 80, 40


def safe_text(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters, lone surrogates escaped so the text encodes as UTF-8."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def excerpt(value: Any) -> Any:
    """A short, JSON-safe stand-in for a value a client sent."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return safe_text(value)
    return safe_text(_repr.repr(value))


def _safe_error(error: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {
        "type": safe_text(str(error.get("type", "invalid"))),
        "loc": [part if isinstance(part, int) else safe_text(str(part)) for part in error["loc"]],
        "msg": safe_text(str(error.get("msg", "invalid")), MESSAGE_CHARS),
    }
    if "input" in error:
        safe["input"] = excerpt(error["input"])
    if ctx := error.get("ctx"):
        safe["ctx"] = {
            safe_text(str(k)): safe_text(str(v)) if isinstance(v, Exception) else excerpt(v)
            for k, v in list(ctx.items())[:5]
        }
    return safe


def _not_json(error: dict[str, Any], body: Any) -> str:
    """FastAPI's 'JSON decode error' at a character offset -> what, where, and the fix."""
    position = error["loc"][-1] if isinstance(error["loc"][-1], int) else 0
    where = f"character {position}"
    if isinstance(body, str):
        line = body.count("\n", 0, position) + 1
        where = f"line {line}, column {position - body.rfind(chr(10), 0, position)}"
    reason = error.get("ctx", {}).get("error", "invalid JSON")
    return (
        f"the body is not valid JSON: {reason} at {where}; check the quotes, commas and "
        "brackets there (NaN, Infinity and comments are not JSON either)"
    )


def validation_message(errors: list[dict[str, Any]], body: Any = None) -> str:
    parts = []
    for error in errors[:5]:
        if error.get("type") == "json_invalid":
            parts.append(_not_json(error, body))
            continue
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{location(error['loc']) or 'body'}: {message}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return safe_text("; ".join(parts), MESSAGE_CHARS) + more


def _unparsable(cause: BaseException | None) -> str | None:
    """Why Starlette could not parse a body it read (FastAPI only says that it could not)."""
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"the body is not valid UTF-8 ({cause.reason} at byte {cause.start}); "
            "send JSON encoded as UTF-8"
        )
    if isinstance(cause, RecursionError):
        return (
            "the body nests arrays or objects too deeply to parse; flatten it (properties may "
            "nest a few levels, see docs/security.md, limits)"
        )
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "the body holds a number with too many digits; send numbers that fit 64 bits"
    return None


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The one shape of every error: ``{"message": ..., **extra}``."""
    if status == 503:
        headers = {"Retry-After": RETRY_AFTER_SECONDS, **(headers or {})}
    content = {"message": safe_text(message, MESSAGE_CHARS), **extra}
    return JSONResponse(status_code=status, content=content, headers=headers)


def _invalid(problems: Sequence[dict[str, Any]], body: Any = None) -> JSONResponse:
    """422: the problems, located in the request, and a message naming the first few."""
    errors = [_safe_error(problem) for problem in problems]
    return error_response(422, validation_message(errors, body), detail=errors[:MAX_DETAILS])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid(exc.errors(), exc.body)

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected) -> JSONResponse:
        return _invalid([{**p, "loc": ("body", *p["loc"])} for p in exc.problems])

    @app.exception_handler(LineageError)
    async def domain_error(request: Request, exc: LineageError) -> JSONResponse:
        status = STATUS.get(type(exc), 500)
        return error_response(status, str(exc), HEADERS.get(status))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = _unparsable(exc.__cause__) if exc.status_code == 400 else None
        return error_response(
            exc.status_code, message or str(exc.detail), exc.headers, detail=exc.detail
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the traceback after this answer; nothing internal goes out.
        return error_response(500, "internal error; it is logged on the server, retry later")
