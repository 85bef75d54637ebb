"""The lineage vocabulary: kinds, edge rules, identity, times and the request models.

Pure: no I/O. Everything a client may send is validated here (properties by the rules of
``properties.py``), so the store only ever sees
well-formed values, and labels and relationship types only ever come from these enums.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from mllineage.model.properties import MAX_LIST_LENGTH, MAX_STRING_VALUE_LENGTH, Properties, RunMap


class Kind(StrEnum):
    """Node kinds; each is also a Neo4j label (every node additionally carries ``Entity``)."""

    DataSource = "DataSource"
    FeatureGroup = "FeatureGroup"
    Feature = "Feature"
    Dataset = "Dataset"
    Model = "Model"
    FeaturePipeline = "FeaturePipeline"
    FeatureQuery = "FeatureQuery"
    TrainingJob = "TrainingJob"
    Endpoint = "Endpoint"


ARTIFACT_KINDS = frozenset(
    {Kind.DataSource, Kind.FeatureGroup, Kind.Feature, Kind.Dataset, Kind.Model}
)
PROCESS_KINDS = frozenset(
    {Kind.FeaturePipeline, Kind.FeatureQuery, Kind.TrainingJob, Kind.Endpoint}
)


class EdgeType(StrEnum):
    """Relationship types; every edge points downstream."""

    ContributedTo = "ContributedTo"
    Produced = "Produced"
    HasFeature = "HasFeature"


EDGE_RULES: dict[EdgeType, tuple[frozenset[Kind], frozenset[Kind]]] = {
    EdgeType.ContributedTo: (ARTIFACT_KINDS, PROCESS_KINDS),
    EdgeType.Produced: (PROCESS_KINDS, ARTIFACT_KINDS),
    EdgeType.HasFeature: (frozenset({Kind.FeatureGroup}), frozenset({Kind.Feature})),
}

ALLOWED_PAIRS = (
    "artifact (DataSource|FeatureGroup|Feature|Dataset|Model) -ContributedTo-> "
    "process (FeaturePipeline|FeatureQuery|TrainingJob|Endpoint); "
    "process -Produced-> artifact; FeatureGroup -HasFeature-> Feature"
)

DEFAULT_NAMESPACE = "default"
NAMESPACE_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_NAME_LENGTH = 1024
MAX_NAMESPACE_LENGTH = 128


class EdgeRuleError(ValueError):
    """An edge whose type does not allow this pair of kinds."""


def check_edge(edge_type: EdgeType, source: Kind, target: Kind) -> None:
    sources, targets = EDGE_RULES[edge_type]
    if source not in sources or target not in targets:
        raise EdgeRuleError(
            f"{source} -{edge_type}-> {target} is not allowed; allowed pairs: {ALLOWED_PAIRS}"
        )


# --- identity -------------------------------------------------------------------------------


def make_uid(kind: Kind | str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}:{name}"


def parse_uid(uid: str) -> tuple[Kind, str, str]:
    """Split ``kind:namespace:name`` on the first two colons; the name may contain colons."""
    parts = uid.split(":", 2)
    if len(parts) != 3:
        raise ValueError(f"uid {uid!r} must look like '<kind>:<namespace>:<name>'")
    kind, namespace, name = parts
    if kind not in Kind.__members__:
        raise ValueError(f"uid {uid!r} has unknown kind {kind!r}; kinds: {', '.join(Kind)}")
    if not re.fullmatch(NAMESPACE_PATTERN, namespace):
        raise ValueError(f"uid {uid!r} has an invalid namespace; it must match {NAMESPACE_PATTERN}")
    if not name:
        raise ValueError(f"uid {uid!r} has an empty name")
    return Kind(kind), namespace, name


def _valid_uid(uid: str) -> str:
    parse_uid(uid)
    return uid


Uid = Annotated[str, Field(max_length=MAX_NAME_LENGTH + 200), AfterValidator(_valid_uid)]


EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def _utc(value: datetime) -> datetime:
    """Store every time in UTC: odd offsets (sub-minute ones too) cannot reach Neo4j then."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is out of range") from None
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"time must fall between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


_ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]")


def _iso_8601(value: Any) -> Any:
    """Only ISO 8601 text (or a datetime from Python): a bare number could be seconds,
    milliseconds or nanoseconds since the epoch, and guessing wrong is silent."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_8601.match(value)):
        return value
    raise ValueError(
        "a time must be an ISO 8601 string with a time zone, e.g. '2026-11-02T10:00:00Z' "
        "(numbers such as epoch seconds are not accepted)"
    )


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_utc)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Namespace = Annotated[str, Field(pattern=NAMESPACE_PATTERN, max_length=MAX_NAMESPACE_LENGTH)]
ShortText = Annotated[str, Field(max_length=MAX_STRING_VALUE_LENGTH)]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=256)]], Field(max_length=100)]


# --- request models -------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class FeatureIn(Strict):
    """A feature of a feature group; becomes the node ``Feature:<ns>:<group>.<name>``."""

    name: Name
    dtype: ShortText | None = None
    description: ShortText | None = None
    owner: ShortText | None = None
    tags: Tags | None = None
    properties: Properties = Field(default_factory=dict)


DatasetKindOrigin = Literal["declared", "default"]


class EntityIn(Strict):
    """A node as clients send it; ``features`` only on a FeatureGroup."""

    kind: Kind
    name: Name
    namespace: Namespace = DEFAULT_NAMESPACE
    owner: ShortText | None = None
    description: ShortText | None = None
    tags: Tags | None = None
    properties: Properties = Field(default_factory=dict)
    features: list[FeatureIn] | None = Field(default=None, max_length=MAX_LIST_LENGTH)

    @model_validator(mode="after")
    def _features_only_on_groups(self) -> EntityIn:
        if self.features is not None and self.kind is not Kind.FeatureGroup:
            raise ValueError(f"'features' is only allowed on a FeatureGroup, not a {self.kind}")
        return self

    @property
    def uid(self) -> str:
        return make_uid(self.kind, self.namespace, self.name)


class OpenLineageEntity(EntityIn):
    """An entity the OpenLineage mapping made of a dataset, never one parsed from a request:
    ``openlineage_kind`` says how it got its kind, which decides how it joins existing nodes.
    A subclass's field rather than a private attribute of every entity: pydantic sets up a
    model's private attributes on each instance it validates (bench/HISTORY.md, "Create what
    is new")."""

    openlineage_kind: DatasetKindOrigin = Field(exclude=True)


def openlineage_kind(entity: EntityIn) -> DatasetKindOrigin | None:
    """How an OpenLineage dataset got its kind; None for any other entity."""
    return entity.openlineage_kind if isinstance(entity, OpenLineageEntity) else None


RunStatus = Literal["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"]
# How a run's events merge (docs/runs.md): the status of the highest rank wins, the newest among
# equals, so a late START never undoes a COMPLETE. OTHER only adds metadata.
STATUS_RANK: dict[str, int] = {
    "OTHER": 0,
    "START": 1,
    "RUNNING": 2,
    "COMPLETE": 3,
    "FAIL": 3,
    "ABORT": 3,
}
RUN_MAPS = ("params", "metrics", "env", "code")
RUN_ID_NAMESPACE = uuid.UUID("4d1e2c38-5a0b-4f52-9a8e-7b6f0e2d9c41")


def _numbers(metrics: dict[str, Any]) -> dict[str, Any]:
    for key, value in metrics.items():
        numbers = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            raise ValueError(
                f"metric {key!r} is {str(value)[:100]!r}; a metric must be a number "
                "(or a list of numbers): log text as a parameter instead"
            )
    return metrics


class RunIn(Strict):
    """One run of a process. Every run is kept (a ``Run`` node); the events of one run merge
    in any order. ``params``, ``metrics``, ``env`` and ``code`` are flattened maps."""

    id: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        default=None,
        description="Unique in the service; without it, one derived from the process and "
        "the event time (so re-sending the same event lands on the same run)",
    )
    status: RunStatus = "COMPLETE"
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    nominal_start_time: Timestamp | None = None
    nominal_end_time: Timestamp | None = None
    parent_run_id: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    parent_job: ShortText | None = None
    experiment: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    error_message: ShortText | None = None
    params: RunMap = Field(
        default_factory=dict, validation_alias=AliasChoices("params", "parameters")
    )
    metrics: Annotated[RunMap, AfterValidator(_numbers)] = Field(default_factory=dict)
    env: RunMap = Field(default_factory=dict, description="Python, packages, image, host")
    code: RunMap = Field(default_factory=dict, description="Repository URL, commit, branch")

    def times(self) -> dict[str, datetime]:
        """The run's times that are set, by field name (each is checked against the clock)."""
        names = ("started_at", "ended_at", "nominal_start_time", "nominal_end_time")
        return {name: at for name in names if (at := getattr(self, name)) is not None}

    def run_id(self, process_uid: str, event_time: datetime) -> str:
        """Its id, else one derived from the process and the event time."""
        return self.id or str(uuid.uuid5(RUN_ID_NAMESPACE, f"{process_uid}@{event_time}"))


MAX_ENTITIES_PER_EVENT = 1_000
MAX_EVENTS_PER_REQUEST = 5_000

# Reads: the defaults and caps of walks and entity pages, shared by the API, the client and the
# CLI. A lineage walk looks DEFAULT_WALK_DEPTH deep; impact and the questions look as deep as
# allowed, because a feature owner asks about everything downstream.
MAX_DEPTH = 100
DEFAULT_WALK_DEPTH = 10
DEFAULT_IMPACT_DEPTH = MAX_DEPTH
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
MAX_PAGE = 1_000
MAX_NAME_QUERY = 256  # the longest name substring an entity search takes


def _is_process(entity: EntityIn) -> EntityIn:
    if entity.kind not in PROCESS_KINDS:
        raise ValueError(
            f"{entity.kind} is an artifact, but the process of an event must be one of "
            f"{', '.join(sorted(PROCESS_KINDS))}; allowed pairs: {ALLOWED_PAIRS}"
        )
    return entity


def _is_artifact(entity: EntityIn) -> EntityIn:
    if entity.kind not in ARTIFACT_KINDS:
        raise ValueError(
            f"{entity.kind} is a process, but event inputs and outputs must be artifacts "
            f"({', '.join(sorted(ARTIFACT_KINDS))}); allowed pairs: {ALLOWED_PAIRS}"
        )
    return entity


# Every artifact may feed every process and every process may produce every artifact, so the
# edge rules of an event come down to: the process is a process, the inputs and outputs are not.
Process = Annotated[EntityIn, AfterValidator(_is_process)]
Artifacts = Annotated[
    list[Annotated[EntityIn, AfterValidator(_is_artifact)]],
    Field(max_length=MAX_ENTITIES_PER_EVENT),
]


class LineageEvent(Strict):
    """One run of one process: its inputs ContributedTo it, it Produced its outputs.

    Without ``run`` the event states the process's inputs and outputs as facts (as an
    OpenLineage JobEvent does) and records no run.
    """

    event_time: Timestamp
    producer: ShortText = "unknown"
    process: Process
    run: RunIn | None = None
    inputs: Artifacts = Field(default_factory=list)
    outputs: Artifacts = Field(default_factory=list)


def _batch_or_event(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "events" in value else "event"


class EventBatch(Strict):
    """Several events applied in one transaction: all land or none does."""

    events: list[LineageEvent] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


EventsRequest = Annotated[
    Annotated[LineageEvent, Tag("event")] | Annotated[EventBatch, Tag("batch")],
    Discriminator(_batch_or_event),
]


class EdgeIn(Strict):
    """An edge between two nodes named by uid."""

    source: Uid
    target: Uid
    type: EdgeType

    @model_validator(mode="after")
    def _follows_edge_rules(self) -> EdgeIn:
        check_edge(self.type, parse_uid(self.source)[0], parse_uid(self.target)[0])
        return self


class GraphUpsert(Strict):
    """Nodes and edges that are facts rather than runs ("endpoint E serves model M")."""

    event_time: Timestamp | None = Field(
        default=None,
        description="When the facts became true; defaults to the time the server receives "
        "them. Send it to make re-sending the same upsert leave the graph unchanged.",
    )
    producer: ShortText = "unknown"
    nodes: list[EntityIn] = Field(default_factory=list, max_length=10_000)
    edges: list[EdgeIn] = Field(default_factory=list, max_length=10_000)
