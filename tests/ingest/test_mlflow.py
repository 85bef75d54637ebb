"""MLflow's registry as the sync and the webhook share it (pure): signatures checked against
MLflow's own signing code, the alias-move plan, and the names MLflow's keys become."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from mllineage.ingest import mlflow
from mllineage.integrations.mlflow import dataset_input, feast_inputs, stored_map
from mllineage.model.properties import checked_map

delivery = pytest.importorskip("mlflow.webhooks.delivery", reason="the dev extra has mlflow")


def headers(secret: str, body: str, at: int | None = None) -> dict[str, str]:
    """Headers as MLflow's own delivery code signs them."""
    stamp = str(at if at is not None else int(time.time()))
    signature = delivery._generate_hmac_signature(secret, "d-1", stamp, body)
    return {"x-mlflow-signature": signature, "x-mlflow-delivery-id": "d-1",
            "x-mlflow-timestamp": stamp}  # fmt: skip


def test_a_delivery_signed_by_mlflow_is_accepted_and_nothing_else() -> None:
    body = json.dumps({"entity": "model_version_alias", "action": "created", "data": {}})
    good = headers("s3cret", body)
    assert mlflow.check_headers(good) is None
    assert mlflow.check_signature("s3cret", good, body.encode()) is None
    assert "secret" in str(mlflow.check_signature("other", good, body.encode()))
    assert mlflow.check_signature("s3cret", good, body.encode() + b" ") is not None
    assert "required" in str(mlflow.check_headers({}))
    assert "Unix time" in str(mlflow.check_headers({**good, "x-mlflow-timestamp": "soon"}))
    stale = headers("s3cret", body, at=int(time.time()) - 3600)
    assert "old" in str(mlflow.check_headers(stale))


def test_an_alias_move_ends_the_old_edge_and_starts_the_new_one() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    ends, upsert = mlflow.serving(
        "default", "churn", "champion", "3", at, ["Model:default:churn@2"]
    )
    assert [(e.source, e.target) for e in ends] == [
        ("Model:default:churn@2", "Endpoint:default:churn@champion")
    ]
    assert upsert is not None
    assert [(e.source, e.target) for e in upsert.edges] == [
        ("Model:default:churn@3", "Endpoint:default:churn@champion")
    ]
    same, nothing = mlflow.serving(
        "default", "churn", "champion", "3", at, ["Model:default:churn@3"]
    )
    assert same == [] and nothing is None


def test_mlflow_keys_and_values_become_valid_maps() -> None:
    kept = stored_map({"learning rate": 0.1, "lr/decay": "0.9", "9lives": 1, "nan": float("nan"),
                 **{f"p{i:03d}": i for i in range(150)}})  # fmt: skip
    assert checked_map(kept) == kept and len(kept) == 100
    assert "learning_rate" in kept and "lr_decay" in kept and "_9lives" in kept
    assert "nan" not in kept


def test_inputs_from_mlflow_datasets_and_feast_tags() -> None:
    source = json.dumps({"uri": "s3://acme-lake/churn/2026-11-03"})
    assert dataset_input(source, "churn", "default")["name"] == "s3://acme-lake/churn/2026-11-03"
    assert dataset_input("not json", "churn", "default")["name"] == "mlflow/churn"
    served = feast_inputs({"feast.project": "p", "feast.feature_service": "svc"})
    assert served == [{"kind": "Dataset", "namespace": "p", "name": "svc"}]
    refs = feast_inputs({"feast.project": "p", "feast.feature_refs": "v:a,v:b,w:c"})
    assert {(i["name"], tuple(f["name"] for f in i["features"])) for i in refs} == {
        ("v", ("a", "b")), ("w", ("c",)),
    }  # fmt: skip
    assert feast_inputs({"feast.feature_service": "svc"}) == []  # no project: no identity
