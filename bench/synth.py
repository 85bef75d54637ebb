"""Synthetic lineage with a realistic shape, from a seed.

Data sources feed feature pipelines that write feature groups (with features); feature-store
queries read groups (most listing the features they use) and write datasets; training jobs
read datasets and write model versions; endpoints serve models and read groups (and
features) online; five endpoints' prediction logs become data sources again (feedback
cycles). Fan-in and fan-out pick popular upstreams more often, so there are many diamonds.
Edges come to about 3x nodes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from mllineage.client.builders import entity, event, features

# Share of the node budget per kind (features come with their groups).
SHARES = {
    "DataSource": 0.04,
    "FeaturePipeline": 0.04,
    "FeatureGroup": 0.06,
    "Feature": 0.30,
    "FeatureQuery": 0.10,
    "Dataset": 0.10,
    "TrainingJob": 0.10,
    "Model": 0.16,
    "Endpoint": 0.10,
}
TEAMS = [f"team-{name}" for name in ("growth", "risk", "ml", "search", "ads", "ops", "data")]
START = datetime(2026, 1, 1, tzinfo=UTC)
# Endpoints whose prediction logs feed a group they serve, at every size: "a few" cycles.
# (A share of endpoints instead, 5% or even 0.5%, merged at 1M nodes into one strongly
# connected component of ~2,800 nodes upstream of half of all nodes.)
FEEDBACK_LOOPS = 5


def _ent(kind: str, name: str, rng: random.Random, **extra: Any) -> dict[str, Any]:
    """An entity owned by a random team."""
    return entity(kind, name, rng.choice(TEAMS), **extra)


def _pick(rng: random.Random, items: list[str], k: int) -> list[str]:
    """k distinct items, skewed towards the front (popular upstreams make diamonds)."""
    k = min(k, len(items))
    chosen: set[str] = set()
    while len(chosen) < k:
        chosen.add(items[min(int(rng.paretovariate(1.2)) - 1, len(items) - 1)])
    return sorted(chosen)


def lineage_events(nodes: int, seed: int = 7) -> list[dict[str, Any]]:
    """About ``nodes`` nodes worth of native lineage events, one per process run."""
    rng = random.Random(seed)
    count = {kind: max(1, int(nodes * share)) for kind, share in SHARES.items()}
    features_per_group = max(1, count["Feature"] // count["FeatureGroup"])
    group_features = [f"f{j}:float" for j in range(features_per_group)]
    sources = [f"s3://lake/raw/source-{i}/" for i in range(count["DataSource"])]
    groups = [f"fg-{i}" for i in range(count["FeatureGroup"])]
    datasets = [f"s3://lake/datasets/ds-{i}/" for i in range(count["Dataset"])]
    models = [f"model-{i % max(1, count['Model'] // 3)}@{i}" for i in range(count["Model"])]
    clock = iter(START + timedelta(minutes=i) for i in range(10**9))
    events: list[dict[str, Any]] = []

    def emit(process: dict[str, Any], inputs: list[Any], outputs: list[Any]) -> None:
        time, run_id = next(clock).isoformat(), f"run-{seed}-{len(events)}"
        events.append(
            event(process, inputs, outputs, time=time, run_id=run_id, producer="bench/synth.py")
        )

    for i in range(count["FeaturePipeline"]):  # each group is written by one pipeline
        mine = groups[i :: count["FeaturePipeline"]]
        emit(
            _ent("FeaturePipeline", f"pipeline-{i}", rng),
            [_ent("DataSource", s, rng) for s in _pick(rng, sources, rng.randint(1, 3))],
            [_ent("FeatureGroup", g, rng, features=features(*group_features)) for g in mine],
        )

    def group_input(group: str, listed_share: float, most: int) -> dict[str, Any]:
        """A group read by a process; often with the features it uses (Feature edges)."""
        if rng.random() >= listed_share:
            return _ent("FeatureGroup", group, rng)
        used = rng.sample(
            range(features_per_group), k=min(rng.randint(2, most), features_per_group)
        )
        return _ent("FeatureGroup", group, rng, features=features(*(f"f{j}" for j in sorted(used))))

    for i in range(count["FeatureQuery"]):
        emit(
            _ent("FeatureQuery", f"query-{i}", rng),
            [group_input(g, 0.8, 8) for g in _pick(rng, groups, rng.randint(2, 5))],
            [_ent("Dataset", datasets[i % len(datasets)], rng)],
        )
    for i in range(count["TrainingJob"]):
        trained = models[i :: count["TrainingJob"]]
        emit(
            _ent("TrainingJob", f"train-{i}", rng),
            [_ent("Dataset", d, rng) for d in _pick(rng, datasets, rng.randint(1, 3))],
            [_ent("Model", m, rng) for m in trained],
        )
    for i in range(count["Endpoint"]):
        feedback = i < FEEDBACK_LOOPS
        served = _pick(rng, groups, rng.randint(1, 2))
        emit(
            _ent("Endpoint", f"endpoint-{i}", rng),
            [_ent("Model", rng.choice(models), rng), *(group_input(g, 0.5, 4) for g in served)],
            [_ent("DataSource", f"s3://lake/logs/endpoint-{i}/", rng)] if feedback else [],
        )
        if feedback:  # the prediction log feeds a pipeline that rewrites a group it serves
            emit(
                _ent("FeaturePipeline", f"feedback-{i}", rng),
                [_ent("DataSource", f"s3://lake/logs/endpoint-{i}/", rng)],
                [_ent("FeatureGroup", served[0], rng)],
            )
    rng.shuffle(events)
    return events
