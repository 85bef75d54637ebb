"""The entity reads (store/reads.py): one entity with its neighbours, and entity lists."""

from __future__ import annotations

from mllineage.store.queries.common import LINEAGE, PROPERTIES, edge_filter, node_filter

# One entity and its direct neighbours in a view: `alive` says whether the entity itself is
# in it (a retired one is not, unless the view includes what is retired).
_GET_ENTITY = """
MATCH (n:Entity {uid: $uid})
RETURN $PROPERTIES AS node, $ALIVE AS alive,
       [(m)-[r:$LINEAGE]->(n) WHERE $NODE_M AND $EDGE_R
        | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap] AS upstream,
       [(n)-[r:$LINEAGE]->(m) WHERE $NODE_M AND $EDGE_R
        | {uid: m.uid, kind: m.kind, name: m.name, type: type(r)}][..$cap] AS downstream
"""

_LIST_ENTITIES = """
MATCH (n:Entity)
WHERE ($kind IS NULL OR n.kind = $kind)
  AND ($namespace IS NULL OR n.namespace = $namespace)
  AND ($q IS NULL OR toLower(n.name) CONTAINS toLower($q))
  AND ($after IS NULL OR n.uid > $after)
  AND $NODE_N
RETURN $PROPERTIES AS node
ORDER BY n.uid
LIMIT $limit
"""


def get_entity_query(mode: str) -> str:
    return (
        _GET_ENTITY.replace("$PROPERTIES", PROPERTIES)
        .replace("$ALIVE", node_filter(mode, "n"))
        .replace("$NODE_M", node_filter(mode, "m"))
        .replace("$EDGE_R", edge_filter(mode, "r"))
        .replace("$LINEAGE", LINEAGE)
    )


def list_entities_query(mode: str) -> str:
    return _LIST_ENTITIES.replace("$PROPERTIES", PROPERTIES).replace(
        "$NODE_N", node_filter(mode, "n")
    )
