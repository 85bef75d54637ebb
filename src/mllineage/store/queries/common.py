"""What several query modules share: how a node's properties are read, the lineage edge
types, and the lifecycle's intervals (the clauses that write them and the view filters that
read them)."""

from __future__ import annotations

from mllineage.ingest.events import TIME_PROPERTIES
from mllineage.model.domain import EdgeType
from mllineage.model.lifecycle import FOREVER as FOREVER_TIME
from mllineage.model.lifecycle import HIDDEN_PROPERTIES, LIFECYCLE_TIMES

# Temporal values cross the driver as ISO strings, both ways: the driver converts each one
# between Python and Neo4j types in Python, which dominated big writes and walks (see
# bench/HISTORY.md). Cypher's datetime() and toString() do it in the server, and the store
# parses with datetime.fromisoformat.


# A node's properties as a map, temporal values as ISO strings and the lifecycle's interval
# lists left out (only ``as_of`` filters read them): a map projection costs Neo4j less than
# a list of [key, value] pairs built key by key. The keys it names are null on a node
# without them (Neo4j stores no nulls, so the store drops null values); naming a key that
# no node has yet draws a server warning, so the store reads with notifications off.
_TIME_KEYS = TIME_PROPERTIES + LIFECYCLE_TIMES


def owner_of(node: str) -> str:
    """A node's owner; a feature without one has its group's, as the reports count it (the
    subquery runs only for such a feature)."""
    return (
        f"CASE WHEN {node}.owner IS NULL AND {node}:Feature THEN head(COLLECT {{ "
        f"MATCH (g:FeatureGroup)-[:HasFeature]->({node}) WHERE g.owner IS NOT NULL "
        f"RETURN g.owner ORDER BY g.uid }}) ELSE {node}.owner END"
    )


def properties_of(node: str) -> str:
    """The Cypher for the properties of the node variable ``node`` as a map."""
    times = (f"`{key}`: toString({node}.`{key}`)" for key in _TIME_KEYS)
    hidden = (f"`{key}`: null" for key in HIDDEN_PROPERTIES)
    return f"{node} {{.*, {', '.join([*times, *hidden, f'owner: {owner_of(node)}'])}}}"


PROPERTIES = properties_of("n")

# The lineage edges: the only ones walks and neighbour lists follow (run edges never are).
LINEAGE = "|".join(EdgeType)

# Lifecycle (see model/lifecycle.py): a node's retirements and an edge's ends are intervals
# kept in two parallel lists, `<p>_from` and `<p>_until`, the open one ending at FOREVER; `<p>_at`
# is the start of the open one (null while live), so the live graph filters on one property.
FOREVER = f"datetime('{FOREVER_TIME:%Y-%m-%dT%H:%M:%SZ}')"


def _open_start(var: str, prefix: str) -> str:
    """The earliest start of an open interval of ``var``, or null."""
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return (
        f"reduce(m = null, i IN range(0, size({f}) - 1) | "
        f"CASE WHEN {u}[i] = {FOREVER} AND (m IS NULL OR {f}[i] < m) THEN {f}[i] ELSE m END)"
    )


def revive(var: str, prefix: str, times: str) -> str:
    """Clauses for live events at ``times`` (mentions, a restore): each interval that one of
    them falls in now ends at the earliest such time (a newer event wins, and a live one wins
    a tie; an older, late event changes nothing)."""
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return f"""
FOREACH (x IN CASE WHEN {f} IS NULL THEN [] ELSE [1] END |
  SET {u} = [i IN range(0, size({f}) - 1) |
             reduce(m = {u}[i], t IN {times} | CASE WHEN t >= {f}[i] AND t < m THEN t ELSE m END)]
  SET {var}.{prefix}_at = {_open_start(var, prefix)})"""


def close(var: str, prefix: str, live_times: str) -> str:
    """Clauses for a retirement or an end at ``at``: a new interval from ``at`` to the earliest
    live time remembered at or after it (``live_times``, or the end of a later interval),
    else open; nothing when an interval already covers ``at`` or a live time equals it.
    Leaves the old starts ``starts`` in scope."""
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return f"""
WITH *, coalesce({f}, []) AS starts, coalesce({u}, []) AS ends
WITH *, any(i IN range(0, size(starts) - 1) WHERE starts[i] <= at AND at < ends[i]) AS covered,
     reduce(m = {FOREVER}, t IN {live_times} + ends |
            CASE WHEN t >= at AND t < m THEN t ELSE m END) AS until
WITH *, covered OR until = at AS idle
SET {f} = CASE WHEN idle THEN starts ELSE starts + at END,
    {u} = CASE WHEN idle THEN ends ELSE ends + until END
SET {var}.{prefix}_at = {_open_start(var, prefix)}"""


# The read filters of each view mode (lifecycle.View.mode) on a node or an edge variable.
AS_OF = "datetime($as_of)"


def _outside(var: str, prefix: str) -> str:
    f, u = f"{var}.{prefix}_from", f"{var}.{prefix}_until"
    return (
        f"none(i IN range(0, size(coalesce({f}, [])) - 1) "
        f"WHERE {f}[i] <= {AS_OF} AND {AS_OF} < {u}[i])"
    )


def retired_as_of(var: str) -> str:
    """Whether the node ``var`` was retired at ``$as_of``."""
    return f"NOT {_outside(var, 'retired')}"


def node_filter(mode: str, var: str) -> str:
    return {
        "live": f"{var}.retired_at IS NULL",
        "all": "true",
        "as_of": f"{var}.created_at <= {AS_OF} AND {_outside(var, 'retired')}",
        "created": f"{var}.created_at <= {AS_OF}",
    }[mode]


def edge_filter(mode: str, var: str) -> str:
    return {
        "live": f"{var}.ended_at IS NULL",
        "all": "true",
        "as_of": f"{var}.first_seen <= {AS_OF} AND {_outside(var, 'ended')}",
        "created": f"{var}.first_seen <= {AS_OF}",
    }[mode]
