"""MLflow's registry as lineage, what the sync and the webhooks share (pure, no I/O): how a
version and an alias are named, what an alias move changes, and a webhook delivery read and
verified. docs/mlflow.md has the mapping.

A registered version is the ``Model`` ``<model>@<version>``; an alias is the ``Endpoint``
``<model>@<alias>``, served by the version it points at (that version ContributedTo it). An
alias that moves ends the edge from the version it left and starts one from the version it
points at now, both at the time of the move (the webhook's, or when the sync noticed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mllineage.model.domain import EdgeIn, EdgeType, GraphUpsert, Kind, make_uid

PRODUCER = "mlflow"
DEPRECATED_TAG = "mllineage.deprecated"
SIGNATURE_VERSION = "v1"
# A delivery older than this (by its X-MLflow-Timestamp) is refused: it may be a replay of
# an alias that has moved since.
MAX_DELIVERY_AGE_SECONDS = 300


def version_uid(namespace: str, model: str, version: str | int) -> str:
    return make_uid(Kind.Model, namespace, f"{model}@{version}")


def endpoint_uid(namespace: str, model: str, alias: str) -> str:
    return make_uid(Kind.Endpoint, namespace, f"{model}@{alias}")


def version_node(namespace: str, model: str, version: str | int) -> dict[str, Any]:
    """The ``Model`` node of a registered version, marked as MLflow's."""
    mlflow = {"registered_model": model, "version": int(version)}
    return {
        "kind": "Model",
        "namespace": namespace,
        "name": f"{model}@{version}",
        "properties": {"mlflow": mlflow},
    }


def stale(endpoint: str, served_by: list[str], keep: str | None = None) -> list[EdgeIn]:
    """The serving edges into ``endpoint`` to end: all from ``served_by`` but ``keep``."""
    return [
        EdgeIn(source=uid, target=endpoint, type=EdgeType.ContributedTo)
        for uid in served_by
        if uid != keep
    ]


def serving(
    namespace: str, model: str, alias: str, version: str, at: datetime, served_by: list[str]
) -> tuple[list[EdgeIn], GraphUpsert | None]:
    """What pointing ``alias`` at ``version`` changes, given the models that serve its
    endpoint now: the edges to end, and the upsert that starts the new one (None when that
    version serves it already)."""
    endpoint = endpoint_uid(namespace, model, alias)
    now = version_uid(namespace, model, version)
    ends = stale(endpoint, served_by, keep=now)
    if now in served_by:
        return ends, None
    node = {
        "kind": "Endpoint",
        "namespace": namespace,
        "name": f"{model}@{alias}",
        "properties": {"mlflow": {"registered_model": model, "alias": alias}},
    }
    upsert = GraphUpsert.model_validate(
        {
            "event_time": at,
            "producer": PRODUCER,
            "nodes": [node, version_node(namespace, model, version)],
            "edges": [{"source": now, "target": endpoint, "type": "ContributedTo"}],
        }
    )
    return ends, upsert


def signed(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """MLflow's signature of a delivery: ``v1,`` + base64 HMAC-SHA256 of
    ``<delivery id>.<timestamp>.<body>``."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def check_headers(headers: dict[str, str], now: datetime | None = None) -> str | None:
    """Why a delivery's headers are not MLflow's (None when they are): the signature,
    delivery id and timestamp must be there, the timestamp recent. Read before the body."""
    if not all(headers.get(h) for h in ("x-mlflow-signature", "x-mlflow-delivery-id")):
        return (
            "an MLflow webhook delivery is signed: X-MLflow-Signature, X-MLflow-Delivery-Id "
            "and X-MLflow-Timestamp are required (create the webhook with the secret set "
            "in MLLINEAGE_MLFLOW_WEBHOOK_SECRET)"
        )
    try:
        sent = datetime.fromtimestamp(int(headers.get("x-mlflow-timestamp", "")), UTC)
    except (ValueError, OverflowError, OSError):
        return "X-MLflow-Timestamp must be the Unix time MLflow sent the delivery at"
    age = ((now or datetime.now(UTC)) - sent).total_seconds()
    if abs(age) > MAX_DELIVERY_AGE_SECONDS:
        return f"the delivery is {age:.0f} s old; more than {MAX_DELIVERY_AGE_SECONDS} s is refused"
    return None


def check_signature(secret: str, headers: dict[str, str], body: bytes) -> str | None:
    """Why the body is not the one MLflow signed with ``secret`` (None when it is)."""
    expected = signed(secret, headers["x-mlflow-delivery-id"], headers["x-mlflow-timestamp"], body)
    if not hmac.compare_digest(expected, headers["x-mlflow-signature"]):
        return "the signature does not match: the webhook's secret differs from the service's"
    return None


@dataclass(frozen=True)
class Delivery:
    """One webhook event: ``entity.action`` (``model_version_alias.created``, ...), its time
    and MLflow's ``data``."""

    event: str
    at: datetime
    data: dict[str, Any]

    @classmethod
    def read(cls, payload: Any, now: datetime | None = None) -> Delivery:
        """MLflow's envelope ``{"entity", "action", "timestamp", "data"}``; its time is never
        taken as later than ``now``. Raises ValueError naming what is missing."""
        if not isinstance(payload, dict):
            raise ValueError("the body must be MLflow's webhook object")
        entity, action, data = payload.get("entity"), payload.get("action"), payload.get("data")
        if not (isinstance(entity, str) and isinstance(action, str) and isinstance(data, dict)):
            raise ValueError("'entity', 'action' and 'data' (an object) are required")
        now = now or datetime.now(UTC)
        try:
            at = datetime.fromisoformat(str(payload.get("timestamp")))
            at = min(at if at.tzinfo else at.replace(tzinfo=UTC), now)
        except ValueError:
            at = now
        return cls(f"{entity}.{action}", at, data)

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
            raise ValueError(f"'data.{key}' is required for {self.event}")
        return str(value)
