"""The real Feast: its `feast init` template (made afresh here) and a repository of our own
shaped like real ones, applied with Feast's own OpenLineage emitter posting over HTTP to a
service with authentication on, materialized, and synced with `mllineage sync feast`.

Every expectation is read off Feast's registry through its SDK (the oracle), never off our
mapping. docs/feast.md's ``py`` examples run here, on the template's graph.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from mllineage.api.auth import new_key
from mllineage.client import LineageClient
from mllineage.integrations.feast import PROMETHEUS_VARIABLES, FeastError, import_feast
from mllineage.local import LocalApi
from mllineage.settings import Settings
from tests import docs
from tests.helpers import auth_on, dump_graph

try:
    feast_sdk = import_feast()
except FeastError as missing:
    pytest.skip(str(missing), allow_module_level=True)

pytestmark = pytest.mark.timeout(900)
FEAST = Path(sys.executable).with_name("feast")
TOKEN, KEY = new_key("feast", {"read", "write"})
ENV = {**os.environ, "FEAST_USAGE": "False", "PYTHONWARNINGS": "ignore"}


def feast(repo: Path, *args: str) -> None:
    done = subprocess.run(
        [str(FEAST), *args], cwd=repo, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def mllineage(server: LocalApi, *args: str) -> str:
    env = {**ENV, "MLLINEAGE_URL": server.url, "MLLINEAGE_TOKEN": TOKEN}
    done = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def emit_to(repo: Path, server: LocalApi) -> None:
    """The `openlineage:` block of docs/feast.md, pointed at the test server."""
    block = textwrap.dedent(f"""
        openlineage:
          enabled: true
          transport_type: http
          transport_url: {server.url}
          transport_endpoint: api/v1/lineage
          api_key: {TOKEN}
    """)
    config = repo / "feature_store.yaml"
    config.write_text(re.sub(r"\nopenlineage:.*", "", config.read_text(), flags=re.S) + block)


def test_importing_feast_leaves_the_process_prometheus_settings_alone() -> None:
    """Feast's import sets PROMETHEUS_MULTIPROC_DIR, which turned the test process's /metrics
    into multiprocess mode and emptied tests/api/test_metrics.py's counters."""
    assert not [name for name in PROMETHEUS_VARIABLES if name in os.environ]


def registry(repo: Path) -> Any:
    return feast_sdk.FeatureStore(repo_path=str(repo))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feast")
    feast(root, "init", "driver_repo")
    return root / "driver_repo" / "feature_repo"


@pytest.fixture(scope="module")
def fraud(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("fraud")
    write_fraud_repo(repo, with_merchants=True)
    return repo


@pytest.fixture(scope="module")
def server(settings: Settings, template: Path, fraud: Path) -> Iterator[LocalApi]:
    paths = {"driver_repo": str(template), "fraud": str(fraud)}
    with LocalApi(auth_on(settings, KEY, feast_repo_paths=paths)) as served:
        yield served


@pytest.fixture(scope="module")
def emitted(template: Path, server: LocalApi, neo4j_driver: Driver) -> dict[str, Any]:
    """The graph Feast's emitter alone made of the template: apply, then materialize."""
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    emit_to(template, server)
    feast(template, "apply")
    feast(template, "materialize-incremental", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return dump_graph(neo4j_driver)


def uids(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {props["uid"]: props for _, props in graph["nodes"]}


def edge_set(graph: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(s, t, d) for s, t, d, _ in graph["edges"]}


def served_views(store: Any) -> list[Any]:
    """The views `feast apply` emits: batch, stream and on-demand (not label views)."""
    return [
        *store.list_feature_views(),
        *store.list_stream_feature_views(),
        *store.list_on_demand_feature_views(),
    ]


def test_feast_apply_and_materialize_land_the_template_whole(
    emitted: dict[str, Any], template: Path
) -> None:
    store, nodes, edges = registry(template), uids(emitted), edge_set(emitted)
    views = [v for v in served_views(store) if type(v).__name__ != "LabelView"]
    groups = {uid for uid in nodes if uid.startswith("FeatureGroup:")}
    assert groups == {f"FeatureGroup:driver_repo:{v.name}" for v in views}
    for view in views:
        group = f"FeatureGroup:driver_repo:{view.name}"
        assert nodes[group].get("owner") == (view.owner or view.tags.get("team"))
        features = {d for s, t, d in edges if s == group and t == "HasFeature"}
        assert features == {f"Feature:driver_repo:{view.name}.{f.name}" for f in view.features}
    for service in store.list_feature_services():
        query = f"FeatureQuery:driver_repo:feature_service_{service.name}"
        assert (query, "Produced", f"Dataset:driver_repo:{service.name}") in edges
        for projection in service.feature_view_projections:
            for feature in projection.features:
                uid = f"Feature:driver_repo:{projection.name}.{feature.name}"
                assert (uid, "ContributedTo", query) in edges
    apply_job = "FeaturePipeline:driver_repo:feast_feature_views_driver_repo"
    assert not [s for s, t, d in edges if d == apply_job and t == "ContributedTo"]
    assert not [uid for uid in nodes if uid.startswith("DataSource:") and "hourly" in uid]
    materialize = "FeaturePipeline:driver_repo:materialize_driver_repo"
    [run_id] = [s for s, t, d in emitted["run_edges"] if t == "RunOf" and d == materialize]
    [materialized] = [run for run in emitted["runs"] if run["id"] == run_id]
    assert materialized["status"] == "COMPLETE" and materialized.get("nominal_end_time")
    online = {
        f"Dataset:driver_repo:online_store_{v.name}" for v in store.list_feature_views() if v.online
    }
    wrote = {d for s, t, d in emitted["run_edges"] if s == run_id and t == "Wrote"}
    assert online <= wrote, (online, wrote)


def test_sync_adds_the_per_view_edges_and_matches_the_emitter(
    emitted: dict[str, Any], template: Path, server: LocalApi, neo4j_driver: Driver
) -> None:
    store = registry(template)
    printed = mllineage(server, "sync", "feast", str(template))
    assert f"Feast project {store.project}" in printed
    both = dump_graph(neo4j_driver)
    assert uids(emitted).keys() <= uids(both).keys() and edge_set(emitted) <= edge_set(both)
    every_view = [*served_views(store), *store.list_label_views()]
    assert sum(uid.startswith("FeatureGroup:") for uid in uids(both)) == len(every_view)
    for view in store.list_feature_views():
        pipeline = f"FeaturePipeline:driver_repo:feature_view_{view.name}"
        path = os.path.normpath(os.path.join(template, view.batch_source.path))
        source = f"DataSource:default:file/{path}"
        group = f"FeatureGroup:driver_repo:{view.name}"
        assert (source, "ContributedTo", pipeline) in edge_set(both)
        assert (pipeline, "Produced", group) in edge_set(both)
    # The sync alone: the emitter's graph but its jobs' runs, plus the per-view edges.
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    mllineage(server, "sync", "feast", str(template))
    synced = dump_graph(neo4j_driver)
    jobs = ("feast_feature_views_", "materialize_", "online_store_")
    kept = {uid for uid in uids(emitted) if not any(job in uid for job in jobs)}
    assert kept <= uids(synced).keys()
    for uid in kept:
        for key in ("owner", "feast.entities", "feast.ttl_seconds", "feast.feature_views"):
            assert uids(synced)[uid].get(key) == uids(emitted)[uid].get(key), (uid, key)
    between = {(s, t, d) for s, t, d in edge_set(emitted) if s in kept and d in kept}
    assert between <= edge_set(synced)


def test_the_owner_questions_on_the_template(
    template: Path, server: LocalApi, neo4j_driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/feast.md's Python example: a training run on a service, then the questions."""
    store = registry(template)
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    mllineage(server, "sync", "feast", str(template))
    monkeypatch.setenv("MLLINEAGE_URL", server.url)
    monkeypatch.setenv("MLLINEAGE_TOKEN", TOKEN)
    examples = re.findall(r"^```py\n(.*?)^```$", docs.page("docs/feast.md"), re.M | re.S)
    assert examples, "docs/feast.md shows the questions in a py block"
    for example in examples:
        exec(compile(example, "docs/feast.md", "exec"), {})
    [service] = [s for s in store.list_feature_services() if s.name == "driver_activity_v1"]
    chosen = features_used(store, service)
    with LineageClient(server.url, TOKEN) as client:
        for view in store.list_feature_views():
            for feature in view.features:
                models = client.get_models_from_feature(f"{view.name}.{feature.name}")
                expected = ["driver-ranking@1"] if (view.name, feature.name) in chosen else []
                assert list(models["name"]) == expected, (view.name, feature.name)
        [view] = [v for v in store.list_feature_views() if v.name == "driver_hourly_stats"]
        path = os.path.normpath(os.path.join(template, view.batch_source.path))
        impact = client.impact(f"DataSource:default:file/{path}")
        assert {"driver_hourly_stats", "driver-ranking@1"} <= set(impact["name"])
        assert "driver_performance" in impact.attrs["owners"]
        upstream = client.lineage("Dataset:driver_repo:driver_activity_v1", direction="upstream")
        assert f"DataSource:default:file/{path}" in set(upstream["uid"])
    printed = mllineage(server, "impact", f"file/{path}")
    assert "driver_hourly_stats" in printed and "driver-ranking@1" in printed


def features_used(store: Any, service: Any) -> set[tuple[str, str]]:
    """(view, feature) of every feature the service reads: those it selects, and those the
    on-demand views it selects read (Feast: an on-demand view reads its sources' features)."""
    on_demand = {view.name: view for view in store.list_on_demand_feature_views()}
    used: set[tuple[str, str]] = set()

    def add(view: str, features: list[Any]) -> None:
        used.update((view, feature.name) for feature in features)
        if view in on_demand:
            for source, projection in on_demand[view].source_feature_view_projections.items():
                add(source, projection.features)

    for projection in service.feature_view_projections:
        add(projection.name, projection.features)
    return used


FRAUD = """
from datetime import timedelta

import pandas as pd

from feast import (Entity, FeatureService, FeatureView, Field, FileSource, KafkaSource,
                   PushSource, RequestSource)
from feast.data_format import JsonFormat
from feast.on_demand_feature_view import on_demand_feature_view
from feast.stream_feature_view import stream_feature_view
from feast.types import Float64, Int64, String

user = Entity(name="user", join_keys=["user_id"], owner="risk@acme.io")
merchant = Entity(name="merchant", join_keys=["merchant_id"])
transactions = FileSource(name="transactions", path="data/transactions.parquet",
                          timestamp_field="event_timestamp", created_timestamp_column="created")
merchants = FileSource(name="merchants", path="{merchants}", timestamp_field="event_timestamp")
transactions_push = PushSource(name="transactions_push", batch_source=transactions)
transactions_stream = KafkaSource(
    name="transactions_stream", kafka_bootstrap_servers="kafka:9092", topic="transactions",
    timestamp_field="event_timestamp", batch_source=transactions,
    message_format=JsonFormat(schema_json="user_id integer, event_timestamp timestamp"))
checkout = RequestSource(name="checkout", schema=[Field(name="amount", dtype=Float64)])

user_txn = FeatureView(
    name="user_transactions", entities=[user], ttl=timedelta(days=2), source=transactions,
    schema=[Field(name="txn_count_1h", dtype=Int64),
            Field(name="txn_amount_1h", dtype=Float64, description="Sum of the last hour")],
    owner="risk@acme.io", tags={{"team": "risk"}})
user_txn_fresh = FeatureView(
    name="user_transactions_fresh", entities=[user], ttl=timedelta(hours=1),
    source=transactions_push, tags={{"team": "risk-realtime"}},
    schema=[Field(name="txn_count_1h", dtype=Int64), Field(name="txn_amount_1h", dtype=Float64)])


@stream_feature_view(entities=[user], ttl=timedelta(hours=1), mode="python",
                     source=transactions_stream, schema=[Field(name="txn_count_1h", dtype=Int64)],
                     tags={{"team": "risk-realtime"}})
def user_txn_stream(df):
    return df


@on_demand_feature_view(sources=[user_txn, checkout],
                        schema=[Field(name="amount_vs_hourly", dtype=Float64)], owner="ml@acme.io")
def amount_ratio(inputs: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame()
    out["amount_vs_hourly"] = inputs["amount"] / (inputs["txn_amount_1h"] + 1)
    return out


fraud_realtime = FeatureService(name="fraud_realtime", features=[user_txn_fresh, user_txn_stream],
                                tags={{"team": "risk-realtime"}})
"""
MERCHANTS = """
merchant_stats = FeatureView(
    name="merchant_stats", entities=[merchant], ttl=timedelta(days=7), source=merchants,
    schema=[Field(name="chargeback_rate", dtype=Float64), Field(name="category", dtype=String)],
    tags={"team": "merchants"})
fraud_model_v1 = FeatureService(
    name="fraud_model_v1", features=[user_txn[["txn_count_1h"]], merchant_stats, amount_ratio],
    owner="ml@acme.io")
"""
WITHOUT_MERCHANTS = """
fraud_model_v1 = FeatureService(
    name="fraud_model_v1", features=[user_txn[["txn_count_1h"]], amount_ratio], owner="ml@acme.io")
"""


def write_fraud_repo(repo: Path, with_merchants: bool) -> None:
    """A repository shaped like real ones: two file sources (one by a relative path, one by
    an absolute one), a push, a Kafka and a request source; batch, stream and on-demand
    views; two services; owners and teams. Without merchants: a view and its use removed."""
    import pandas as pd

    (repo / "data").mkdir(exist_ok=True)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    times = [now - pd.Timedelta(hours=h) for h in range(24)]
    transactions = {
        "user_id": [i % 5 for i in range(24)],
        "event_timestamp": times,
        "created": times,
        "txn_count_1h": range(24),
        "txn_amount_1h": [i * 1.5 for i in range(24)],
    }
    pd.DataFrame(transactions).to_parquet(repo / "data" / "transactions.parquet")
    merchants = {
        "merchant_id": [i % 3 for i in range(24)],
        "event_timestamp": times,
        "chargeback_rate": [i / 24 for i in range(24)],
        "category": ["a"] * 24,
    }
    pd.DataFrame(merchants).to_parquet(repo / "data" / "merchants.parquet")
    (repo / "feature_store.yaml").write_text(
        textwrap.dedent("""
        project: fraud
        registry: data/registry.db
        provider: local
        online_store:
          type: sqlite
          path: data/online_store.db
        entity_key_serialization_version: 3
    """)
    )
    definitions = FRAUD.format(merchants=repo / "data" / "merchants.parquet")
    definitions += MERCHANTS if with_merchants else WITHOUT_MERCHANTS
    (repo / "features.py").write_text(definitions)


def test_sync_is_idempotent_and_retires_what_the_registry_dropped(
    fraud: Path, server: LocalApi, neo4j_driver: Driver
) -> None:
    neo4j_driver.execute_query("MATCH (n) DETACH DELETE n")
    emit_to(fraud, server)
    feast(fraud, "apply")
    mllineage(server, "sync", "feast", str(fraud))
    first = dump_graph(neo4j_driver)
    mllineage(server, "sync", "feast", str(fraud))
    assert dump_graph(neo4j_driver) == first  # a second pass writes nothing new
    store = registry(fraud)
    every = [*served_views(store)]
    groups = {uid for uid in uids(first) if uid.startswith("FeatureGroup:fraud:")}
    assert groups == {f"FeatureGroup:fraud:{v.name}" for v in every}
    owners = {uid: props.get("owner") for uid, props in uids(first).items()}
    for view in every:
        assert owners[f"FeatureGroup:fraud:{view.name}"] == (view.owner or view.tags.get("team"))
    merchants = f"DataSource:default:file/{fraud}/data/merchants.parquet"
    before = datetime.now(UTC).isoformat()
    with LineageClient(server.url, TOKEN) as client:
        assert "merchant_stats" in set(client.impact(merchants)["name"])
        write_fraud_repo(fraud, with_merchants=False)
        feast(fraud, "apply")
        printed = mllineage(server, "sync", "feast", str(fraud))
        assert "retired FeatureGroup:fraud:merchant_stats" in printed
        query = "FeatureQuery:fraud:feature_service_fraud_model_v1"
        assert f"ended FeatureGroup:fraud:merchant_stats -> {query}" in printed
        gone = [f"Feature:fraud:merchant_stats.{f}" for f in ("chargeback_rate", "category")]
        assert all(f"retired {uid}" in printed for uid in gone)
        now = client.impact(merchants)
        assert now.attrs["total"] == 0, now
        then = client.impact(merchants, as_of=before)
        assert "merchant_stats" in set(then["name"])
        entity = client.entity("FeatureGroup:fraud:merchant_stats", include_retired=True)
        assert entity["retirement_reason"] == "removed from the Feast registry"
        kept = client.impact(f"DataSource:default:file/{fraud}/data/transactions.parquet")
        assert {"user_transactions", "amount_ratio", "feature_service_fraud_model_v1"} <= set(
            kept["name"]
        )
