"""The property rules every stored map obeys: entity properties, run parameters and metrics.

Pure. Values are Neo4j property values (scalars, homogeneous lists of scalars); nested objects
are flattened to dotted keys; names the service keeps for itself are refused.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_PROPERTIES = 100
MAX_PROPERTY_KEY_LENGTH = 128
MAX_STRING_VALUE_LENGTH = 16_384
MAX_LIST_LENGTH = 1_000
MAX_PROPERTY_DEPTH = 16

# Node properties the lifecycle calls own (see lifecycle.py): deprecation, retirement, and
# the retirement intervals that `as_of` reads.
LIFECYCLE_PROPERTIES = frozenset(
    {
        "deprecated_at",
        "deprecation_reason",
        "replaced_by",
        "retired_at",
        "retirement_reason",
        "retired_from",
        "retired_until",
        "restores",
    }
)
# Properties the service owns. A user property with one of these names is rejected.
RESERVED_NODE_PROPERTIES = (
    frozenset(
        {"uid", "kind", "namespace", "name", "created_at", "updated_at", "deprecated", "deleted"}
    )
    | LIFECYCLE_PROPERTIES
)
# Optional fields of every entity, stored as node properties of these names and read back
# as fields of their own (events.entity_properties writes them, the store reads them).
COMMON_PROPERTIES = ("owner", "description", "tags")
# Process nodes keep their latest run under this prefix (see store.py); users may not write it.
RUN_PROPERTY_PREFIX = "run."
PROPERTY_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")

Scalar = str | int | float | bool


def _check_scalar(key: str, value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_STRING_VALUE_LENGTH:
        raise ValueError(f"property {key!r} is longer than {MAX_STRING_VALUE_LENGTH} characters")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError(f"property {key!r} does not fit a 64-bit integer")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"property {key!r} is {value}, which JSON cannot carry and would be read back as "
            "null; send a finite number, or leave the property out"
        )


def _check_value(key: str, value: Any) -> Any:
    if isinstance(value, Scalar):
        _check_scalar(key, value)
        return value
    if isinstance(value, list):
        if len(value) > MAX_LIST_LENGTH:
            raise ValueError(f"property {key!r} has more than {MAX_LIST_LENGTH} items")
        types = {type(item) for item in value}
        if len(types) > 1 or not all(isinstance(item, Scalar) for item in value):
            raise ValueError(
                f"property {key!r} must be a list of scalars of one type "
                "(all strings, all integers, all floats or all booleans)"
            )
        for item in value:
            _check_scalar(key, item)
        return value
    raise ValueError(
        f"property {key!r} has a {type(value).__name__} value; use a string, number, boolean "
        "or a list of one of those (null is not a value)"
    )


def flatten_properties(props: dict[str, Any], prefix: str = "", depth: int = 1) -> dict[str, Any]:
    """Flatten nested objects to dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    if depth > MAX_PROPERTY_DEPTH:
        raise ValueError(
            f"properties nest deeper than {MAX_PROPERTY_DEPTH} levels (at {prefix[:200]!r}); "
            "flatten them"
        )
    flat: dict[str, Any] = {}
    for key, value in props.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            items = list(flatten_properties(value, f"{full}.", depth + 1).items())
        else:
            items = [(full, value)]
        for name, item in items:
            if name in flat:
                raise ValueError(
                    f"property {name[:200]!r} is given twice (once nested, once dotted); "
                    "send it once"
                )
            flat[name] = item
    return flat


def checked_map(props: dict[str, Any]) -> dict[str, Any]:
    """Flatten, then apply the property rules (depth, count, names, values) that every stored
    map obeys, run parameters and metrics included; raises ValueError naming the bad key."""
    flat = flatten_properties(props)
    if len(flat) > MAX_PROPERTIES:
        raise ValueError(f"at most {MAX_PROPERTIES} properties are allowed, got {len(flat)}")
    for key, value in flat.items():
        if len(key) > MAX_PROPERTY_KEY_LENGTH or not PROPERTY_KEY_PATTERN.fullmatch(key):
            raise ValueError(
                f"property name {key[:200]!r} is invalid; use letters, digits, '_' and '-', "
                f"starting with a letter or '_', at most {MAX_PROPERTY_KEY_LENGTH} characters"
            )
        _check_value(key, value)
    return flat


def validate_properties(props: dict[str, Any]) -> dict[str, Any]:
    """The property rules, and no name the service keeps for itself."""
    flat = checked_map(props)
    for key in flat:
        if key in RESERVED_NODE_PROPERTIES or key.startswith(RUN_PROPERTY_PREFIX):
            raise ValueError(
                f"property name {key!r} is reserved by the service "
                f"({', '.join(sorted(RESERVED_NODE_PROPERTIES))}, and 'run.*'); rename it"
            )
        if key in COMMON_PROPERTIES:
            raise ValueError(
                f"{key!r} is a field of the entity, not a property: send it beside 'kind' and "
                "'name', outside 'properties'"
            )
    return flat


Properties = Annotated[dict[str, Any], AfterValidator(validate_properties)]
# Run parameters and metrics obey the same rules; the reserved names are free for them.
RunMap = Annotated[dict[str, Any], AfterValidator(checked_map)]
