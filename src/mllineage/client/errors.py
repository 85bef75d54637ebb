"""The one exception the client raises, with the server's problems in structured form.

The server answers every error with a readable ``message``; a validation error also carries
``detail``, a list of problems with their location. Keeping that list lets a caller point at
the item of a batch at fault (``mllineage ingest`` turns it into a file line) without parsing
prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

# Tags the server's validation adds to locations inside its unions (one event or a batch;
# the OpenLineage event types): not fields of the request.
_UNION_TAGS = frozenset({"event", "batch", "run", "job", "dataset"})


@dataclass(frozen=True)
class Problem:
    """One problem the server found in a request.

    ``index`` is the position of the item at fault when the request was a batch (native
    ``{"events": [...]}`` or an OpenLineage array), ``field`` the location inside that item
    (or inside the request), e.g. ``inputs[0].kind``.
    """

    field: str
    message: str
    index: int | None = None

    @classmethod
    def from_detail(cls, error: dict[str, Any]) -> Problem:
        loc = list(error.get("loc") or [])
        if loc[:1] == ["body"]:
            loc = loc[1:]
        index = None
        if loc[:2] == ["batch", "events"] and len(loc) > 2 and isinstance(loc[2], int):
            index, loc = loc[2], loc[3:]  # a native batch
        else:
            if loc and isinstance(loc[0], int):
                index, loc = loc[0], loc[1:]  # an OpenLineage array
            if loc and loc[0] in _UNION_TAGS:
                loc = loc[1:]
        field = ""
        for part in loc:
            field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        return cls(field or "body", message, index)


class LineageAPIError(Exception):
    """The service answered with an error, or could not be reached (``status`` 0).

    ``message`` is the server's sentence; ``problems`` the structured validation problems
    (empty for other errors); ``candidates`` the uids the client found close to an unknown or
    ambiguous name (a 404 or 409), for "did you mean".
    """

    def __init__(
        self,
        status: int,
        message: str,
        problems: Sequence[Problem] = (),
        candidates: Sequence[str] = (),
    ) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message
        self.problems = list(problems)
        self.candidates = list(candidates)

    @property
    def index(self) -> int | None:
        """The batch item the first problem is about, when the server said which."""
        return next((p.index for p in self.problems if p.index is not None), None)

    @classmethod
    def from_response(cls, response: httpx.Response) -> LineageAPIError:
        """The error an error answer stands for: its ``message`` and ``detail`` if JSON."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, response.text)
        detail = body.get("detail")
        details = detail if isinstance(detail, list) else []
        problems = [Problem.from_detail(error) for error in details if isinstance(error, dict)]
        return cls(response.status_code, body.get("message") or response.text, problems)
