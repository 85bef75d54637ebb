"""Schema and readiness (store/schema.py), and the provisioning of the local server."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

SHOW_INDEXES = "SHOW INDEXES YIELD name, state RETURN name, state"
# Indexes older versions created that no longer serve a query (schema.drop_retired).
RETIRED_INDEXES = ("entity_name_text",)
DROP_INDEX = "DROP INDEX $name IF EXISTS"
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"

# Provisioning of the local server (local/neo4j.py): a login check, and the first login's
# mandatory change of the default password.
PING = "RETURN 1"
CHANGE_PASSWORD = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new"

SCHEMA_NAME = re.compile(r"CREATE\s+(?:\w+\s+)?(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


def schema_names(statements: list[str]) -> set[str]:
    """The names of the constraints and indexes the statements create."""
    return {m.group(1) for s in statements if (m := SCHEMA_NAME.search(s))}


def read_schema(path: Path | None = None) -> list[str]:
    """The statements of the schema: ``path``, else the ``cypher/schema.cypher`` shipped in
    the package (found through importlib.resources, so any kind of install has it);
    ``//`` comments dropped, split on semicolons."""
    source = path or resources.files("mllineage.cypher").joinpath("schema.cypher")
    text = "\n".join(
        line for line in source.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    return [statement.strip() for statement in text.split(";") if statement.strip()]
