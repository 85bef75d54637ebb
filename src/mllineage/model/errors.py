"""The service's few domain errors; ``api/errors.py`` maps each to one HTTP status.

LineageError
 ├── Unauthenticated  401: no bearer token, or one that matches no API key
 ├── Forbidden        403: the API key lacks the scope the call needs
 ├── NotFound         404: an entity named by uid does not exist
 ├── InvalidInput     422: well-formed input the graph cannot accept (e.g. a missing edge end)
 └── Unavailable      503: Neo4j cannot be reached or is not ready; retrying later may succeed
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
