"""Builders of lineage events for tests: a small feature-store scenario, written out by hand."""

from __future__ import annotations

import copy
from typing import Any


def entity(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "name": name, **extra}


def event(
    process: dict[str, Any],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    *,
    time: str = "2026-11-02T10:00:00Z",
    status: str = "COMPLETE",
    run_id: str = "run-1",
    producer: str = "https://github.com/acme/feature-jobs",
) -> dict[str, Any]:
    return {
        "event_time": time,
        "producer": producer,
        "process": process,
        "run": {"id": run_id, "status": status, "parameters": {"lr": 0.1}, "metrics": {}},
        "inputs": inputs,
        "outputs": outputs,
    }


def feature_store_events() -> list[dict[str, Any]]:
    """Raw data -> pipeline -> groups -> query -> dataset -> training -> model -> endpoint."""
    customers = entity(
        "FeatureGroup",
        "customers",
        owner="team-growth",
        features=[{"name": "age", "dtype": "int"}, {"name": "tenure", "dtype": "int"}],
    )
    orders = entity("FeatureGroup", "orders", owner="team-commerce")
    return [
        event(
            entity("FeaturePipeline", "customer-features", owner="team-growth"),
            [
                entity("DataSource", "s3://acme/raw/customers/"),
                entity("DataSource", "s3://acme/raw/orders/"),
            ],
            [customers, orders],
            time="2026-11-02T10:00:00Z",
        ),
        event(
            entity("FeatureQuery", "churn-training-set"),
            [entity("FeatureGroup", "customers"), entity("FeatureGroup", "orders")],
            [entity("Dataset", "s3://acme/datasets/churn/2026-11-02/")],
            time="2026-11-02T11:00:00Z",
        ),
        event(
            entity("TrainingJob", "churn-train", owner="team-ml"),
            [entity("Dataset", "s3://acme/datasets/churn/2026-11-02/")],
            [entity("Model", "churn-xgb@3", properties={"version": 3, "model_name": "churn-xgb"})],
            time="2026-11-02T12:00:00Z",
        ),
        event(
            entity("Endpoint", "churn-prod", owner="team-ml"),
            [entity("Model", "churn-xgb@3"), entity("FeatureGroup", "customers")],
            [],
            time="2026-11-02T13:00:00Z",
        ),
    ]


def changed(body: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with ``value`` at ``path`` (keys and list indexes)."""
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body
