"""Reading lineage: walks, the impact report, and the feature-owner questions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from mllineage.analysis.traversal import QUESTIONS, Direction
from mllineage.api.deps import StoreDep, ViewDep, require
from mllineage.model.domain import (
    DEFAULT_IMPACT_DEPTH,
    DEFAULT_LIMIT,
    DEFAULT_WALK_DEPTH,
    MAX_DEPTH,
    MAX_LIMIT,
    Kind,
    Uid,
    parse_uid,
)
from mllineage.model.errors import InvalidInput
from mllineage.model.views import ImpactReport, LineageGraph, Serialized

router = APIRouter(prefix="/v1", tags=["lineage"], dependencies=[require("read")])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No entity with that uid"}}


def _split_commas(value: Any) -> Any:
    """Accept ``kinds=Model,Endpoint`` as well as ``kinds=Model&kinds=Endpoint``."""
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


RootUid = Annotated[Uid, Query(description="uid of the start node, `<kind>:<namespace>:<name>`")]
Depth = Annotated[int, Query(ge=1, le=MAX_DEPTH, description="Hops from the root")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most nodes returned")]
Kinds = Annotated[
    list[Kind] | None,
    BeforeValidator(_split_commas),
    Query(description="Return only these kinds (the walk passes through every kind)"),
]
QuestionName = StrEnum("QuestionName", {name: name for name in QUESTIONS})  # type: ignore[misc]


def json_reply(reply: Serialized[Any]) -> Response:
    """The store's ready JSON, sent as it is (the route's ``response_model`` documents it)."""
    return Response(reply.json, media_type="application/json")


@router.get(
    "/lineage",
    summary="Walk upstream, downstream or both from a node",
    responses=NOT_FOUND,
    response_model=LineageGraph,
)
async def lineage(
    store: StoreDep,
    view: ViewDep,
    uid: RootUid,
    direction: Direction = Direction.downstream,
    depth: Depth = DEFAULT_WALK_DEPTH,
    kinds: Kinds = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    reply = await store.walks.lineage(
        uid,
        direction=direction,
        depth=depth,
        kinds=frozenset(kinds) if kinds else None,
        limit=limit,
        view=view,
    )
    return json_reply(reply)


@router.get(
    "/impact", summary="The downstream blast radius of changing a node", responses=NOT_FOUND
)
async def impact(
    store: StoreDep,
    view: ViewDep,
    uid: RootUid,
    depth: Depth = DEFAULT_IMPACT_DEPTH,
    limit: Limit = DEFAULT_LIMIT,
    live: Annotated[
        bool,
        Query(description="Keep what serves now: live endpoints and everything upstream of one"),
    ] = False,
) -> ImpactReport:
    return await store.walks.impact(uid, depth=depth, limit=limit, view=view, live=live)


@router.get(
    "/questions/{question}",
    summary="A feature-owner question: " + "; ".join(q.summary for q in QUESTIONS.values()),
    responses={**NOT_FOUND, 422: {"description": "The uid is not of the kind the question asks"}},
    response_model=LineageGraph,
)
async def ask(
    store: StoreDep,
    view: ViewDep,
    question: QuestionName,
    uid: RootUid,
    depth: Depth = DEFAULT_IMPACT_DEPTH,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    asked = QUESTIONS[question.value]
    kind = parse_uid(uid)[0]
    if kind is not asked.root:
        raise InvalidInput(
            f"uid: {question.value} starts from a {asked.root}, but {uid!r} is a {kind}"
        )
    reply = await store.walks.lineage(
        uid,
        direction=asked.direction,
        depth=depth,
        kinds=frozenset({asked.returns}),
        limit=limit,
        view=view,
    )
    return json_reply(reply)
