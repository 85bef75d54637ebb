"""The Neo4j Browser's style and guide, served to the Browser that opens them on connect.

Neo4j is configured (local/neo4j.py, docker-compose.yml) to run ``:style <url>`` and
``:play <url>`` after a login, so the Browser opens styled and with the saved queries as a
guide. The Browser fetches both from its own page (another origin), sending ``pragma`` and
``cache-control`` headers, so the answers carry CORS headers and a preflight is answered.
These two static resources are the only unauthenticated ones besides the probes and the
docs: they hold nothing but what the package ships (a browser cannot send a bearer token
from a ``:play``), and the routes declare no ``require``, so the guard lets them through.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from mllineage.browser.grass import style_text
from mllineage.browser.guide import guide_html

router = APIRouter(prefix="/browser", tags=["neo4j browser"])

STYLE_PATH = "/browser/style.grass"
GUIDE_PATH = "/browser/guide.html"
CORS = {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Max-Age": "600",
}


@router.get(
    "/style.grass",
    summary="The Neo4j Browser style (nodes coloured by kind); open, with CORS",
    response_class=PlainTextResponse,
)
async def style() -> PlainTextResponse:
    return PlainTextResponse(style_text(), headers=CORS)


@router.get(
    "/guide.html",
    summary="The Neo4j Browser guide: the saved queries as steps; open, with CORS",
    response_class=HTMLResponse,
)
async def guide() -> HTMLResponse:
    return HTMLResponse(guide_html(), headers=CORS)


@router.options("/style.grass", include_in_schema=False)
@router.options("/guide.html", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """Allow the headers the Browser asks for (it sends no credentials, so ``*`` is fine)."""
    asked = request.headers.get("access-control-request-headers", "")
    return Response(status_code=204, headers={**PREFLIGHT, "Access-Control-Allow-Headers": asked})
