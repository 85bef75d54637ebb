"""The tests' lineage events: the product's builder with fixed defaults, and a small scenario."""

from __future__ import annotations

import copy
from typing import Any

from mllineage.client import builders
from mllineage.client.builders import entity, features

__all__ = ["changed", "entity", "event", "event_with", "feature_store_events"]


def event(
    process: dict[str, Any],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    **run: Any,
) -> dict[str, Any]:
    """``builders.event`` with one fixed time, producer and parameters unless given (the run
    id derived from the process and the time, unless given)."""
    defaults: dict[str, Any] = {
        "time": "2026-11-02T10:00:00Z",
        "producer": "https://github.com/acme/feature-jobs",
        "parameters": {"lr": 0.1},
        "metrics": {},
    }
    return builders.event(process, inputs, outputs, **{**defaults, **run})


def feature_store_events() -> list[dict[str, Any]]:
    """Raw data -> pipeline -> groups -> query -> dataset -> training -> model -> endpoint."""
    customers = entity(
        "FeatureGroup", "customers", "team-growth", features=features("age:int", "tenure:int")
    )
    orders = entity("FeatureGroup", "orders", "team-commerce")
    return [
        event(
            entity("FeaturePipeline", "customer-features", "team-growth"),
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
            entity("TrainingJob", "churn-train", "team-ml"),
            [entity("Dataset", "s3://acme/datasets/churn/2026-11-02/")],
            [entity("Model", "churn-xgb@3", properties={"version": 3, "model_name": "churn-xgb"})],
            time="2026-11-02T12:00:00Z",
        ),
        event(
            entity("Endpoint", "churn-prod", "team-ml"),
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


def event_with(path: list[Any], value: Any) -> dict[str, Any]:
    """The scenario's first event, with ``value`` at ``path``: one bad field in a good event."""
    return changed(feature_store_events()[0], path, value)
