"""The API's one body parser: JSON with a nesting limit, and no text that cannot be stored safely."""

import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.utils import json

from ctit_trial.errors import NON_FIELD

# A JSON string (escapes included) or a bracket: brackets inside strings do not nest.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
NUL_MESSAGE = "Null characters are not allowed."
UTF8_MESSAGE = "Not valid UTF-8 text (a lone surrogate or a malformed byte sequence)."


def max_string_length() -> int:
    return settings.API_MAX_STRING_LENGTH


def text_problem(value: str) -> str | None:
    """Why a text cannot be accepted (NUL, lone surrogate, over the length cap), or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return f"Surrogate characters are not allowed: U+{ord(value[error.start]):X}."
    if len(value) > max_string_length():
        return f"Ensure this field has no more than {max_string_length()} characters."
    return None


def printable(name: str) -> str:
    """A field name as it can be shown back: escapes instead of NULs and surrogates."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _texts(data: Any) -> Iterator[tuple[str, str]]:
    """Every (dotted path, text) in a parsed body, dictionary keys included; iterative, so depth cannot crash it."""
    stack = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield _join(path, printable(key)), key
                stack.append((_join(path, printable(key)), item))
        elif isinstance(value, list):
            stack.extend((_join(path, index), item) for index, item in enumerate(value))


def refuse_unsafe_text(data: Any) -> None:
    """400 naming the first field whose text (or key) is NUL-bearing, a lone surrogate or over-long."""
    for path, text in _texts(data):
        problem = text_problem(text)
        if problem:
            raise ValidationError({path or NON_FIELD: [problem]})


def nesting_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit` (counted before parsing, so json never recurses deeply)."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser, refusing deep nesting and unsafe text with a 400 before any view sees the body."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from error
        limit = settings.API_MAX_JSON_DEPTH
        if nesting_exceeds(text, limit):
            raise ValidationError({NON_FIELD: [f"JSON nested deeper than {limit} levels."]})
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        refuse_unsafe_text(data)
        return data
