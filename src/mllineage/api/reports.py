"""Governance reports (see reports.py): one GET per report, cursor-paged like the entity list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mllineage.analysis.reports import PAGES, SUMMARIES, Report, ReportPage
from mllineage.api.deps import StoreDep, require
from mllineage.model.domain import MAX_PAGE, NAMESPACE_PATTERN, Timestamp
from mllineage.model.errors import NotFound
from mllineage.model.lifecycle import View

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[require("read")])

AsOf = Annotated[
    Timestamp | None,
    Query(description="Report on the graph as it stood at this time (ISO 8601, with a zone)"),
]
Namespace = Annotated[
    str | None,
    Query(pattern=NAMESPACE_PATTERN, max_length=128, description="Only subjects in it"),
]
Owner = Annotated[
    str | None, Query(min_length=1, max_length=1024, description="Only subjects they own")
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most items in a page")]
Cursor = Annotated[
    str | None, Query(max_length=4096, description="next_cursor of the previous page")
]


@router.get("", summary="The reports there are, with what each answers")
async def list_reports() -> dict[str, str]:
    return {report.value: summary for report, summary in SUMMARIES.items()}


def _route(report: Report) -> Callable[..., Awaitable[ReportPage]]:
    async def run(
        store: StoreDep,
        as_of: AsOf = None,
        namespace: Namespace = None,
        owner: Owner = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> ReportPage:
        return await store.reports.report(
            report, namespace=namespace, owner=owner, limit=limit, cursor=cursor, view=View(as_of)
        )

    run.__name__ = report.name
    return run


for _report in Report:
    router.add_api_route(
        f"/{_report.value}",
        _route(_report),
        methods=["GET"],
        response_model=PAGES[_report],
        summary=SUMMARIES[_report],
        responses={422: {"description": "Invalid as_of, filter or cursor"}},
    )


@router.get("/{name}", include_in_schema=False)
async def unknown_report(name: str) -> Any:
    known = ", ".join(report.value for report in Report)
    raise NotFound(f"no report named {name!r}; the reports are: {known}")
