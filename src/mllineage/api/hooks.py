"""Webhooks of the tools teams run: MLflow's model registry (``POST /v1/hooks/mlflow``).

MLflow cannot send an API key, so a delivery is authenticated by its signature
(``ingest/mlflow.py`` ``verify``, with ``MLLINEAGE_MLFLOW_WEBHOOK_SECRET``): its headers are
checked before the body is read, the signature after. A delivery is applied in its own time:
an alias set moves its endpoint's serving edge, an alias deleted ends it and retires the
endpoint, a new version is a Model node, the ``mllineage.deprecated`` tag deprecates a
version; anything else is acknowledged and ignored. MLflow does not queue or redeliver
beyond three tries, so `mllineage sync mlflow` reconciles what was missed (docs/mlflow.md).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from mllineage.analysis.traversal import Direction
from mllineage.api.deps import SettingsDep, StoreDep
from mllineage.ingest import mlflow
from mllineage.ingest.intake import parse, take, to_write
from mllineage.model.domain import Kind
from mllineage.model.errors import InvalidInput, NotFound, Unauthenticated
from mllineage.store.facade import Store

router = APIRouter(prefix="/v1/hooks", tags=["hooks"])
REMEMBERED_DELIVERIES = 10_000  # delivery ids already applied, per process


def _applied(request: Request) -> OrderedDict[str, None]:
    """The delivery ids applied by this process, oldest first (a replay, or MLflow's retry of
    one it did not hear answered, is applied once)."""
    applied: OrderedDict[str, None] = request.app.state.__dict__.setdefault(
        "mlflow_deliveries", OrderedDict()
    )
    return applied


async def _served_by(store: Store, endpoint: str) -> list[str]:
    try:
        graph = await store.walks.lineage(
            endpoint,
            direction=Direction.upstream,
            depth=1,
            kinds=frozenset({Kind.Model}),
            limit=100,
        )
    except NotFound:
        return []
    return [node.uid for node in graph.parse().nodes]


@router.post(
    "/mlflow",
    summary="MLflow's registry webhooks: alias moves, new versions, deprecations",
    responses={
        401: {"description": "Not signed with the configured secret"},
        404: {"description": "No secret is configured: MLflow's webhooks are off"},
    },
)
async def mlflow_hook(request: Request, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    secret = settings.mlflow_webhook_secret
    if secret is None:
        raise NotFound(
            "MLflow's webhooks are off: set MLLINEAGE_MLFLOW_WEBHOOK_SECRET to the webhook's "
            "secret (docs/mlflow.md)"
        )
    headers = {k.lower(): v for k, v in request.headers.items()}
    if problem := mlflow.check_headers(headers):
        raise Unauthenticated(problem)
    body = await request.body()
    if problem := mlflow.check_signature(secret.get_secret_value(), headers, body):
        raise Unauthenticated(problem)
    delivery_id, applied = headers["x-mlflow-delivery-id"], _applied(request)
    if delivery_id in applied:
        return {"applied": False, "reason": "this delivery was applied already"}
    try:
        delivery = mlflow.Delivery.read(parse(body))  # parse: strict JSON, else Rejected (422)
    except ValueError as exc:
        raise InvalidInput(f"not an MLflow webhook delivery: {exc}") from None
    answer = await _apply(delivery, store, settings)
    applied[delivery_id] = None  # only once applied: a failed one is MLflow's to retry
    if len(applied) > REMEMBERED_DELIVERIES:
        applied.popitem(last=False)
    return answer


def _nodes(node: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"event_time": at.isoformat(), "producer": mlflow.PRODUCER, "nodes": [node]}


async def _apply(delivery: mlflow.Delivery, store: Store, settings: Any) -> dict[str, Any]:
    namespace, at = settings.mlflow_namespace, delivery.at
    try:
        if delivery.event == "model_version_alias.created":
            model, alias = delivery.text("name"), delivery.text("alias")
            endpoint = mlflow.endpoint_uid(namespace, model, alias)
            ends, upsert = mlflow.serving(
                namespace, model, alias, delivery.text("version"), at,
                await _served_by(store, endpoint),
            )  # fmt: skip
            if ends:
                await store.lifecycle.end_edges(ends, at=at)
            if upsert is not None:
                await store.write(to_write(take(upsert, settings, "graph")))
        elif delivery.event == "model_version_alias.deleted":
            model, alias = delivery.text("name"), delivery.text("alias")
            endpoint = mlflow.endpoint_uid(namespace, model, alias)
            if ends := mlflow.stale(endpoint, await _served_by(store, endpoint)):
                await store.lifecycle.end_edges(ends, at=at)
            with contextlib.suppress(NotFound):  # an alias the graph never had
                await store.lifecycle.retire(endpoint, reason="alias deleted in MLflow", at=at)
        elif delivery.event == "model_version.created":
            node = mlflow.version_node(namespace, delivery.text("name"), delivery.text("version"))
            await store.write(to_write(take(_nodes(node, at), settings, "graph")))
        elif (
            delivery.event == "model_version_tag.set"
            and delivery.text("key") == mlflow.DEPRECATED_TAG
        ):
            model, version = delivery.text("name"), delivery.text("version")
            node = mlflow.version_node(namespace, model, version)
            await store.write(to_write(take(_nodes(node, at), settings, "graph")))
            reason = str(delivery.data.get("value") or "deprecated in MLflow")
            uid = mlflow.version_uid(namespace, model, version)
            await store.lifecycle.deprecate(uid, reason=reason, replaced_by=None, at=at)
        else:
            return {"applied": False, "reason": f"{delivery.event} is not lineage"}
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return {"applied": True, "event": delivery.event, "event_time": at}
