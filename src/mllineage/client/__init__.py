"""The Python client: a thin layer over the HTTP API that answers in pandas and networkx.

    from mllineage.client import LineageClient
    with LineageClient() as lineage:                       # MLLINEAGE_URL, MLLINEAGE_TOKEN
        lineage.post_events(events)                        # batched, native or OpenLineage
        lineage.ingest("events.jsonl")                     # files; goes on past bad batches
        lineage.get_models_from_feature_group("customers") # a DataFrame
        graph = lineage.to_networkx("Model:default:churn-xgb@3", direction="upstream")
        with lineage.track("TrainingJob", "train", inputs=["churn-set"]) as run:
            run.log_metrics({"precision": 0.91})           # START, then COMPLETE or FAIL

Every failed call raises ``LineageAPIError`` with the HTTP status, the server's message and
its structured problems.
"""

from mllineage.client.core import LineageClient, is_uid
from mllineage.client.errors import LineageAPIError, Problem
from mllineage.client.frames import IMPACT_COLUMNS, NODE_COLUMNS
from mllineage.client.ingest import (
    BATCH_SIZE,
    Failed,
    IngestReport,
    Item,
    read_events,
)
from mllineage.client.tracking import TrackedRun, TrackingWarning
from mllineage.client.transport import DEFAULT_URL

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_URL",
    "IMPACT_COLUMNS",
    "NODE_COLUMNS",
    "Failed",
    "IngestReport",
    "Item",
    "LineageAPIError",
    "LineageClient",
    "Problem",
    "TrackedRun",
    "TrackingWarning",
    "is_uid",
    "read_events",
]
