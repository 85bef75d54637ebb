"""API keys: bearer tokens with scopes, kept only as SHA-256 digests and compared in constant time.

Tokens are 256-bit random strings, so a plain SHA-256 digest is enough to store them (there
is nothing to brute-force); the service never sees or logs a token it did not just receive.
Scopes: ``read`` (GET), ``write`` (posting lineage), ``admin`` (everything).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter

Scope = Literal["read", "write", "admin"]
TOKEN_PREFIX = "mll_"


class ApiKey(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token")
    scopes: set[Scope] = Field(min_length=1)

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key(name: str, scopes: set[Scope]) -> tuple[str, ApiKey]:
    """A fresh token (to hand out once) and the key entry that stores only its digest."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, ApiKey(name=name, sha256=digest(token), scopes=scopes)


class KeyRing:
    """The configured keys; ``find`` looks at every key so timing reveals nothing."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = keys

    def find(self, token: str) -> ApiKey | None:
        presented = digest(token)
        found = None
        for key in self.keys:
            if hmac.compare_digest(presented, key.sha256):
                found = key
        return found


KEY_LIST = TypeAdapter(list[ApiKey])


def load_keys(inline: str | None, file: Path | None) -> list[ApiKey]:
    """Keys from ``MLLINEAGE_API_KEYS`` (a JSON list) and/or ``MLLINEAGE_API_KEYS_FILE``."""
    keys = KEY_LIST.validate_json(inline) if inline else []
    if file is not None:
        keys += KEY_LIST.validate_json(file.read_text()) if file.exists() else []
    return keys


def append_key(file: Path, key: ApiKey) -> None:
    keys = load_keys(None, file)
    file.write_text(json.dumps([k.model_dump(mode="json") for k in [*keys, key]], indent=2))
    file.chmod(0o600)


# A token in a URL's query string is refused (only the Authorization header counts), but the
# access log would still print it: such parameters are blanked in every log record.
_SECRET_PARAMETER = re.compile(
    r"(?i)((?:^|[?&;\s])[\w.-]*(?:token|api[_-]?key|apikey|password|secret)=)[^&;\s\"']*"
)


def redact(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Blanks ``token=``, ``api_key=``, ``access_token=`` (and the like) in log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_access_log() -> None:
    """Install RedactSecrets on uvicorn's access log (once, however many apps are built)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
