"""The service's few domain errors; ``api/errors.py`` maps each to one HTTP status.

LineageError
 ├── NotFound        an entity named by uid does not exist
 ├── InvalidInput    well-formed input that the graph cannot accept (e.g. a missing edge end)
 └── Unavailable     Neo4j cannot be reached or is not ready; retrying later may succeed
"""

from __future__ import annotations


class LineageError(Exception):
    """Base of the errors the API turns into JSON problems."""


class NotFound(LineageError):
    pass


class InvalidInput(LineageError):
    pass


class Unavailable(LineageError):
    pass


class Unauthenticated(LineageError):
    pass


class Forbidden(LineageError):
    pass
