"""OpenLineage datasets: one node per (namespace, name), whatever its kind.

A dataset's kind is declared (our facet) or the default; a declared kind wins over the
default and the newest declaration wins over older ones, so mentions that disagree on the
kind still land on one node. Within a delta that is ``fold_datasets``; against the stored
graph it is ``join_stored_datasets``, which the store applies inside the write.
"""

from __future__ import annotations

import posixpath

from mllineage.ingest.delta import GraphDelta, NodeDelta
from mllineage.model.domain import ARTIFACT_KINDS, make_uid


def location(path: str, base: str | None = None) -> tuple[str, str] | None:
    """The OpenLineage (namespace, name) of the data at ``path``, as Spark, dbt and Airflow
    name it: a URL is ``scheme://authority`` + the rest (``s3://bucket`` + ``key``), a local
    path is ``file`` + the absolute path (a relative one is ``base``'s, or unknown: None)."""
    if "://" in path:
        scheme, rest = path.split("://", 1)
        if scheme == "file":
            return "file", posixpath.normpath("/" + rest.lstrip("/"))
        authority, _, key = rest.partition("/")
        return f"{scheme}://{authority}", key
    if path.startswith("/"):
        return "file", posixpath.normpath(path)
    if base:
        return "file", posixpath.normpath(posixpath.join(base, path))
    return None


def dataset_uids(namespace: str, name: str) -> list[str]:
    """Every uid an OpenLineage dataset of this name can have, one per artifact kind."""
    return [make_uid(kind, namespace, name) for kind in sorted(ARTIFACT_KINDS)]


def dataset_candidates(delta: GraphDelta) -> list[tuple[str, bool]]:
    """Every uid the delta's OpenLineage datasets can have (``dataset_uids``), in order, each
    with whether it is another uid than the dataset's node in the delta: which of those the
    store has decides ``join_stored_datasets``. One node per dataset (``fold_datasets``)."""
    return sorted(
        (uid, uid != node.uid)
        for node in delta.nodes.values()
        if node.openlineage
        for uid in dataset_uids(*node.dataset_key)
    )


def fold_datasets(delta: GraphDelta) -> GraphDelta:
    """One node per OpenLineage dataset in the delta: the newest declared kind, else the default."""
    groups: dict[tuple[str, str], list[NodeDelta]] = {}
    for node in delta.nodes.values():
        if node.openlineage:
            groups.setdefault(node.dataset_key, []).append(node)
    renames = {}
    for nodes in groups.values():
        if len(nodes) > 1:
            target = max(nodes, key=lambda n: (n.openlineage == "declared", n.last_seen, n.uid))
            renames.update({n.uid: target.uid for n in nodes if n is not target})
    return delta.merged(renames) if renames else delta


def join_stored_datasets(
    delta: GraphDelta, stored: set[str]
) -> tuple[GraphDelta, list[tuple[str, str]]]:
    """Join the delta's OpenLineage datasets to the stored nodes of the same datasets.

    ``stored`` holds the uids among ``dataset_uids`` of the delta's datasets that exist as
    OpenLineage datasets. A mention with the default kind joins a stored node of another kind
    (renamed in the returned delta); a declared kind takes over: the returned pairs
    ``(stored uid, declared uid)`` are the nodes the store merges into the declared one.
    """
    renames, merges = {}, []
    for node in delta.nodes.values():
        if not node.openlineage:
            continue
        others = [
            uid for uid in dataset_uids(*node.dataset_key) if uid in stored and uid != node.uid
        ]
        if node.openlineage == "declared":
            merges += [(uid, node.uid) for uid in others]
        elif others and node.uid not in stored:
            renames[node.uid] = others[0]
    return (delta.merged(renames) if renames else delta), merges
