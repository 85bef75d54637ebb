"""The only package that speaks Cypher; it returns domain models, never Neo4j records.

The ``queries`` package holds every query text; ``database`` the sessions, the one-writer
turn and the error mapping; ``rows`` maps rows <-> domain; ``schema``, ``writes``, ``reads``
and ``walks`` one concern each; ``facade.Store`` composes them for the API.
"""

from mllineage.store.database import Database
from mllineage.store.facade import Store, open_store

__all__ = ["Database", "Store", "open_store"]
