"""JSON as the RFC defines it, for every body the service reads (HTTP now, Kafka later).

Python's ``json`` module is lenient in three ways that let bad values into the graph: it reads
``NaN`` and ``Infinity`` (not JSON; stored, they read back as null or break a reply), lone
UTF-16 surrogates such as ``"\\ud800"`` (not text; a reply cannot encode them), and bytes in
UTF-16 or UTF-32 (it guesses the encoding). Here each is a ``json.JSONDecodeError`` at the
offending position, or a ``UnicodeDecodeError`` for bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_CONSTANT = re.compile(r"-?Infinity|NaN")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_HIGH_HALF = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")
_LOW_HALF = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _Constant(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def loads(data: bytes | str) -> Any:
    """Parse ``data`` (UTF-8 bytes or text) as strict JSON."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except _Constant as constant:
        raise json.JSONDecodeError(
            f"{constant.name} is not a JSON number (send a finite number, or leave the value out)",
            text,
            _position_outside_strings(text, _CONSTANT),
        ) from None
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
        raise json.JSONDecodeError(
            "a \\u escape stands for half of a UTF-16 surrogate pair, which is not text "
            "(send the character itself, or both halves of its pair)",
            text,
            _lone_surrogate_position(text),
        )
    return value


def _position_outside_strings(text: str, pattern: re.Pattern[str]) -> int:
    """Where ``pattern`` first matches outside string literals (0 if it does not)."""
    blanked = _STRING.sub(lambda m: " " * len(m.group()), text)
    match = pattern.search(blanked)
    return match.start() if match else 0


def _lone_surrogate_position(text: str) -> int:
    """Where the first surrogate escape stands that is not half of a high-low pair."""
    pair_ends = -1
    for match in _SURROGATE_ESCAPE.finditer(text):
        if match.start() < pair_ends:
            continue  # the low half of the pair just seen
        if _HIGH_HALF.fullmatch(match.group()) and _LOW_HALF.match(text, match.end()):
            pair_ends = match.end() + 6
            continue
        return match.start()
    return 0


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False
