"""The reports (store/reports.py; the definitions are in analysis/reports.py)."""

from __future__ import annotations

import functools

from mllineage.analysis.reports import ORPHAN_KINDS
from mllineage.store.queries.common import AS_OF, edge_filter, node_filter

# Each report pages over its subjects (orphans, deprecated entities, features, endpoints) in uid
# order, in a view ("live" or "as_of"): $after is the previous page's last uid, $limit + 1 rows
# are asked so that the store knows whether there is a next page. Absent filters are '' rather
# than null: Neo4j plans a query again for each combination of parameter types, and these
# queries take long to plan. Walks follow only the lineage edge types and use the same pruning
# breadth-first expansion as walks.lineage_query.
_LINEAGE_TYPES = "ContributedTo|Produced|HasFeature"
_ORPHAN_KINDS = str([kind.value for kind in ORPHAN_KINDS])  # a Cypher list of strings
_CONSUMER_KINDS = "['Model', 'Endpoint']"
_SUBJECT = """{x}.uid > $after AND ($namespace = '' OR {x}.namespace = $namespace)
  AND ($owner = '' OR {owner} = $owner) AND {alive}"""


def _owner(var: str, mode: str) -> str:
    """An entity's owner; a feature without one has its group's (the first that has one)."""
    return (
        f"coalesce({var}.owner, head(COLLECT {{ MATCH (g:FeatureGroup)-[h:HasFeature]->({var}) "
        f"WHERE g.owner IS NOT NULL AND {node_filter(mode, 'g')} AND {edge_filter(mode, 'h')} "
        "RETURN g.owner ORDER BY g.uid }))"
    )


def _subject(var: str, mode: str) -> str:
    return _SUBJECT.format(x=var, owner=_owner(var, mode), alive=node_filter(mode, var))


def _report_walk(start: str, mode: str, upstream: bool = False, through: str = "") -> str:
    """Nodes reached from ``start`` (1 to 100 hops, each at its shortest distance) in the
    view: ``RETURN n, depth``. ``through`` names kinds the walk does not enter (the start may
    be of one)."""
    left, right = ("<-", "-") if upstream else ("-", "->")
    keep = node_filter(mode, "v")
    if through:
        keep = f"{keep} AND (v = {start} OR NOT v.kind IN {through})"
    return (
        f"MATCH p = ({start}){left}[:{_LINEAGE_TYPES}*1..100]{right}(n:Entity) "
        f"WHERE all(v IN nodes(p) WHERE {keep}) "
        f"AND all(w IN relationships(p) WHERE {edge_filter(mode, 'w')}) "
        "RETURN n, min(length(p)) AS depth"
    )


def _whole_readers(feature: str, mode: str) -> str:
    """The processes that read ``feature``'s group without listing any feature of it: they
    read every feature of the group (see reports.py)."""
    return f"""
MATCH (g:FeatureGroup)-[h:HasFeature]->({feature}) WHERE {node_filter(mode, "g")}
  AND {edge_filter(mode, "h")}
MATCH (g)-[r:ContributedTo]->(reader:Entity) WHERE {edge_filter(mode, "r")}
  AND {node_filter(mode, "reader")}
  AND NOT EXISTS {{
    MATCH (g)-[h2:HasFeature]->(f2:Feature)-[r2:ContributedTo]->(reader)
    WHERE {edge_filter(mode, "h2")} AND {node_filter(mode, "f2")} AND {edge_filter(mode, "r2")}
  }}"""


def _reads(process: str, mode: str) -> str:
    """A COLLECT subquery: the uids of the features ``process`` reads (listed, or through a
    group it reads whole)."""
    return f"""COLLECT {{
  MATCH (f:Feature)-[r:ContributedTo]->({process})
  WHERE {node_filter(mode, "f")} AND {edge_filter(mode, "r")}
  RETURN f.uid AS feature
  UNION
  MATCH (g:FeatureGroup)-[r:ContributedTo]->({process})
  WHERE {node_filter(mode, "g")} AND {edge_filter(mode, "r")}
    AND NOT EXISTS {{
      MATCH (g)-[h2:HasFeature]->(f2:Feature)-[r2:ContributedTo]->({process})
      WHERE {edge_filter(mode, "h2")} AND {node_filter(mode, "f2")} AND {edge_filter(mode, "r2")}
    }}
  MATCH (g)-[h:HasFeature]->(f:Feature) WHERE {edge_filter(mode, "h")} AND {node_filter(mode, "f")}
  RETURN f.uid AS feature
}}"""


@functools.cache
def orphans_query(mode: str) -> str:
    return f"""
MATCH (x:Entity)
WHERE x.kind IN {_ORPHAN_KINDS} AND {_subject("x", mode)}
WITH x ORDER BY x.uid
CALL (x) {{
  UNWIND [x] + COLLECT {{ {_whole_readers("x", mode)} RETURN reader }} AS start
  CALL (start) {{
    CALL (start) {{ {_report_walk("start", mode)} }}
    RETURN n
    UNION
    RETURN start AS n
  }}
  RETURN count(CASE WHEN n.kind IN {_CONSUMER_KINDS} AND n <> x THEN 1 END) AS consumers
}}
WITH x WHERE consumers = 0
RETURN x.uid AS uid, x.kind AS kind, x.namespace AS namespace, x.name AS name,
       {_owner("x", mode)} AS owner, toString(x.created_at) AS created_at,
       toString(x.updated_at) AS last_seen
ORDER BY uid LIMIT $limit
"""


@functools.cache
def deprecated_in_use_query(mode: str) -> str:
    deprecated = "true" if mode == "live" else f"x.deprecated_at <= {AS_OF}"
    return f"""
MATCH (x:Entity)
WHERE x.deprecated_at IS NOT NULL AND {deprecated} AND {_subject("x", mode)}
WITH x ORDER BY x.uid
CALL (x) {{
  CALL (x) {{ {_report_walk("x", mode)} }}
  WITH n, depth WHERE n.kind IN {_CONSUMER_KINDS} AND n <> x
  WITH n, depth ORDER BY depth, n.uid
  RETURN collect([n.uid, n.kind, n.namespace, n.name, n.owner, depth]) AS consumers
}}
WITH x, consumers WHERE size(consumers) > 0
RETURN x.uid AS uid, x.kind AS kind, x.namespace AS namespace, x.name AS name,
       {_owner("x", mode)} AS owner, toString(x.deprecated_at) AS deprecated_at,
       x.deprecation_reason AS reason, x.replaced_by AS replaced_by,
       consumers[..$cap] AS consumers, size(consumers) AS total
ORDER BY uid LIMIT $limit
"""


def _columns(var: str) -> str:
    return (
        f"CASE WHEN valueType({var}[$columns]) STARTS WITH 'LIST' THEN {var}[$columns] ELSE [] END"
    )


def _groups(var: str, mode: str) -> str:
    return (
        f"COLLECT {{ MATCH (g:FeatureGroup)-[h:HasFeature]->({var}) WHERE "
        f"{node_filter(mode, 'g')} AND {edge_filter(mode, 'h')} RETURN g.uid ORDER BY g.uid }}"
    )


# A feature's data sources are the nearest ones upstream: walking up, not through another
# data source, a model or an endpoint (what is built on predictions is not built on the raw
# data again). Two features are duplicates when they share one and no group holds both; when
# both know their source columns, they must share one of those too.
_NOT_THROUGH = "['DataSource', 'Model', 'Endpoint']"


@functools.cache
def duplicate_features_query(mode: str) -> str:
    return f"""
MATCH (x:Feature)
WHERE {_subject("x", mode)}
WITH x, {_groups("x", mode)} AS groups, {_columns("x")} AS columns
WHERE size(groups) > 0
WITH x, groups, columns ORDER BY x.uid
CALL (x, groups, columns) {{
  CALL (x) {{
    CALL (x) {{ {_report_walk("x", mode, upstream=True, through=_NOT_THROUGH)} }}
    RETURN n
    UNION
    RETURN x AS n
  }}
  MATCH (s:DataSource)-[r:ContributedTo]->(n) WHERE {node_filter(mode, "s")}
    AND {edge_filter(mode, "r")}
  WITH DISTINCT x, groups, columns, s
  CALL (s) {{ {_report_walk("s", mode, through=_NOT_THROUGH)} }}
  WITH x, groups, columns, s, n AS f WHERE f:Feature AND f <> x
  WITH groups, columns, f, collect(s.uid) AS sources
  WITH groups, columns, f, sources, {_groups("f", mode)} AS their_groups
  WHERE size(their_groups) > 0 AND none(g IN their_groups WHERE g IN groups)
  WITH columns, f, sources, their_groups, {_columns("f")} AS their_columns
  WITH f, sources, their_groups, their_columns,
       [c IN columns WHERE c IN their_columns] AS shared
  WHERE size(columns) = 0 OR size(their_columns) = 0 OR size(shared) > 0
  RETURN collect([f.uid, {_owner("f", mode)}, their_groups, sources, shared]) AS duplicates
}}
WITH x, groups, duplicates WHERE size(duplicates) > 0
RETURN x.uid AS uid, x.namespace AS namespace, x.name AS name,
       {_owner("x", mode)} AS owner, groups, duplicates
ORDER BY uid LIMIT $limit
"""


# What a model was trained on: the features read by the feature queries and training jobs
# upstream of it, not walking through another model or an endpoint.
@functools.cache
def skew_query(mode: str) -> str:
    return f"""
MATCH (e:Endpoint)
WHERE {_subject("e", mode)}
WITH e ORDER BY e.uid
WITH e, {_reads("e", mode)} AS online
WHERE size(online) > 0
CALL (e, online) {{
  MATCH (m:Model)-[s:ContributedTo]->(e) WHERE {node_filter(mode, "m")} AND {edge_filter(mode, "s")}
  CALL (m) {{
    CALL (m) {{ {_report_walk("m", mode, upstream=True, through=_CONSUMER_KINDS)} }}
    WITH n AS q WHERE q.kind IN ['FeatureQuery', 'TrainingJob']
    UNWIND {_reads("q", mode)} AS feature
    RETURN collect(DISTINCT feature) AS trained
  }}
  WITH m, trained, [f IN online WHERE NOT f IN trained] AS online_only,
       [f IN trained WHERE NOT f IN online] AS training_only
  WHERE size(trained) > 0 AND size(online_only) + size(training_only) > 0
  RETURN collect([m.uid, m.owner, online_only, training_only]) AS models
}}
WITH e, models WHERE size(models) > 0
RETURN e.uid AS uid, e.namespace AS namespace, e.name AS name, e.owner AS owner, models
ORDER BY uid LIMIT $limit
"""
