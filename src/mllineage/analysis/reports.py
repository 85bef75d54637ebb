"""Governance reports over the live graph (or the graph as of a time): what each one means, the
shape of its answer, and the shaping of the store's rows (pure; the Cypher is in
store/queries/reports.py, the paging in store/reports.py).

The definitions, shared by every report:

- *Consumers* are the models and endpoints in the view (not retired; reached along edges not
  ended), downstream of a thing by one hop or more, other than the thing itself.
- A process *reads* a feature when the feature ``ContributedTo`` it, or when it reads the
  feature's group whole: the group ``ContributedTo`` it and none of the group's features do
  (a read that lists features reads exactly those).
- A feature without an owner has its group's (the first by uid that has one).
- A feature's *data sources* are the nearest ones upstream: the data sources with an edge
  into the feature or into something upstream of it reached without passing through a data
  source, a model or an endpoint (what is built on predictions is not built on raw data).
- What a model was *trained on*: the features read by the feature queries and training jobs
  upstream of it, reached without passing through another model or an endpoint. Lineage is
  per process: a training job that read several datasets over its runs counts them all.

Each report pages over its subjects in uid order (the orphan, the deprecated entity, the
feature, the endpoint); ``namespace`` and ``owner`` filter the subjects.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from mllineage.model.domain import Kind


class Report(StrEnum):
    orphans = "orphans"
    deprecated_in_use = "deprecated-in-use"
    duplicate_features = "duplicate-features"
    skew = "skew"


SUMMARIES = {
    Report.orphans: "Feature groups, features, datasets and models that no model or endpoint "
    "consumes: clean-up candidates, with their owner and when they were last seen",
    Report.deprecated_in_use: "Deprecated entities that models or endpoints still consume, "
    "with the replacement and the consumers' owners",
    Report.duplicate_features: "Features built from the same data source (and the same source "
    "columns, where both know theirs) in different feature groups",
    Report.skew: "For each endpoint and the model it serves: features it reads online that the "
    "model was not trained on, and features the model was trained on that it does not read",
}
ORPHAN_KINDS = (Kind.FeatureGroup, Kind.Feature, Kind.Dataset, Kind.Model)
CONSUMER_CAP = 1_000  # consumers listed per deprecated entity (``consumers_total`` counts all)


class Orphan(BaseModel):
    uid: str
    kind: Kind
    namespace: str
    name: str
    owner: str | None
    created_at: datetime | None
    last_seen: datetime | None = Field(description="The latest event time that mentioned it")


class Consumer(BaseModel):
    uid: str
    kind: Kind
    namespace: str
    name: str
    owner: str | None
    depth: int = Field(description="Hops from the deprecated entity")


class DeprecatedInUse(BaseModel):
    uid: str
    kind: Kind
    namespace: str
    name: str
    owner: str | None
    deprecated_at: datetime
    reason: str | None
    replaced_by: str | None
    consumers: list[Consumer] = Field(description="Nearest first, at most 1,000")
    consumers_total: int
    owners: list[str] = Field(description="Distinct owners of the consumers: whom to talk to")


class Duplicate(BaseModel):
    uid: str
    owner: str | None
    groups: list[str]
    data_sources: list[str] = Field(description="The data sources the two features share")
    columns: list[str] = Field(description="The source columns they share (empty: not known)")


class DuplicateFeature(BaseModel):
    uid: str
    namespace: str
    name: str
    owner: str | None
    groups: list[str]
    duplicates: list[Duplicate]


class ServedModel(BaseModel):
    uid: str
    owner: str | None
    online_only: list[str] = Field(description="Features read online, not trained on")
    training_only: list[str] = Field(description="Features trained on, not read online")


class Skew(BaseModel):
    uid: str
    namespace: str
    name: str
    owner: str | None
    models: list[ServedModel]


class ReportPage(BaseModel):
    report: Report
    as_of: datetime | None
    items: list[Any]
    next_cursor: str | None


class OrphansPage(ReportPage):
    items: list[Orphan]


class DeprecatedInUsePage(ReportPage):
    items: list[DeprecatedInUse]


class DuplicateFeaturesPage(ReportPage):
    items: list[DuplicateFeature]


class SkewPage(ReportPage):
    items: list[Skew]


PAGES: dict[Report, type[ReportPage]] = {
    Report.orphans: OrphansPage,
    Report.deprecated_in_use: DeprecatedInUsePage,
    Report.duplicate_features: DuplicateFeaturesPage,
    Report.skew: SkewPage,
}


def shape(report: Report, row: dict[str, Any]) -> dict[str, Any]:
    """One row of a report's query -> the fields of its item, lists in a stable order."""
    if report is Report.deprecated_in_use:
        keys = ("uid", "kind", "namespace", "name", "owner", "depth")
        consumers = [dict(zip(keys, c, strict=True)) for c in row["consumers"]]
        return {
            **{k: v for k, v in row.items() if k not in ("consumers", "total")},
            "consumers": consumers,
            "consumers_total": row["total"],
            "owners": sorted({c["owner"] for c in consumers if c["owner"]}),
        }
    if report is Report.duplicate_features:
        duplicates = [
            {
                "uid": uid,
                "owner": owner,
                "groups": groups,
                "data_sources": sorted(sources),
                "columns": sorted(columns),
            }
            for uid, owner, groups, sources, columns in row["duplicates"]
        ]
        return {**row, "duplicates": sorted(duplicates, key=lambda d: d["uid"])}
    if report is Report.skew:
        models = [
            {
                "uid": uid,
                "owner": owner,
                "online_only": sorted(online),
                "training_only": sorted(training),
            }
            for uid, owner, online, training in row["models"]
        ]
        return {**row, "models": sorted(models, key=lambda m: m["uid"])}
    return row


# The client's DataFrames: one row per item and, where an item lists things, per listed thing.
COLUMNS: dict[Report, list[str]] = {
    Report.orphans: ["uid", "kind", "namespace", "name", "owner", "created_at", "last_seen"],
    Report.deprecated_in_use: [
        "uid", "kind", "name", "owner", "replaced_by", "reason", "deprecated_at",
        "consumer", "consumer_kind", "consumer_owner", "depth",
    ],
    Report.duplicate_features: [
        "uid", "name", "owner", "groups", "duplicate", "duplicate_owner", "duplicate_groups",
        "data_sources", "columns",
    ],
    Report.skew: ["endpoint", "endpoint_owner", "model", "model_owner", "feature", "side"],
}  # fmt: skip


def flatten(report: Report, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items of a report (as JSON) -> the rows of its DataFrame."""
    if report is Report.deprecated_in_use:
        return [
            {
                **item,
                "consumer": c["uid"],
                "consumer_kind": c["kind"],
                "consumer_owner": c["owner"],
                "depth": c["depth"],
            }
            for item in items
            for c in item["consumers"]
        ]
    if report is Report.duplicate_features:
        return [
            {
                **item,
                "duplicate": d["uid"],
                "duplicate_owner": d["owner"],
                "duplicate_groups": d["groups"],
                "data_sources": d["data_sources"],
                "columns": d["columns"],
            }
            for item in items
            for d in item["duplicates"]
        ]
    if report is Report.skew:
        return [
            {
                "endpoint": item["uid"],
                "endpoint_owner": item["owner"],
                "model": m["uid"],
                "model_owner": m["owner"],
                "feature": feature,
                "side": side,
            }
            for item in items
            for m in item["models"]
            for side in ("online_only", "training_only")
            for feature in m[side]
        ]
    return items
