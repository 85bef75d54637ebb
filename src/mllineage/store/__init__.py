"""The only package that speaks Cypher; it returns domain models, never Neo4j records.

The ``queries`` package holds every query text; ``database`` the sessions, the write turn and
the error mapping; ``rows`` maps rows <-> domain; ``group_commit`` joins concurrent writes;
``schema``, ``writes``, ``reads``, ``walks``, ``lifecycle``, ``reports``, ``runs`` and
``notifications`` one concern each; ``facade.Store`` hands them out (docs/architecture.md).
"""

from mllineage.store.database import Database
from mllineage.store.facade import Store, open_store

__all__ = ["Database", "Store", "open_store"]
