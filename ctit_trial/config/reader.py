"""Reading a parsed YAML document value by value, each check naming the YAML path of what it reads."""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from ctit_trial.config.errors import ConfigFileError

_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def shown(value: Any) -> str:
    """A value as the error message quotes it: text in double quotes, YAML's null/true/false."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _bounds(minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f" between {minimum} and {maximum}"
    if minimum is not None:
        return f" ≥ {minimum}"
    return f" ≤ {maximum}" if maximum is not None else ""


@dataclass(frozen=True)
class Node:
    """One value of a document, with the file it came from and its path (`scheduling.sentinel_days`)."""

    value: Any
    file: str
    path: str = ""

    def fail(self, problem: str) -> NoReturn:
        raise ConfigFileError(self.file, self.path or "(top level)", problem)

    def at(self, key: str | int) -> "Node":
        """The child at a key (mappings) or an index (lists)."""
        if isinstance(key, int):
            return Node(self.value[key], self.file, f"{self.path}[{key}]")
        path = f"{self.path}.{key}" if self.path else str(key)
        return Node(self.value.get(key), self.file, path)

    def mapping(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> "Node":
        """This node as a mapping holding every required key, and no key outside required + optional."""
        if not isinstance(self.value, Mapping):
            self.fail(f"must be a mapping, got {shown(self.value)}")
        missing = [key for key in required if key not in self.value]
        if missing:
            self.at(missing[0]).fail("is missing")
        unknown = sorted(str(key) for key in self.value if key not in required and key not in optional)
        if unknown:
            self.at(unknown[0]).fail(f"is not a known key here (known: {', '.join(required + optional)})")
        return self

    def items(self, *, min_length: int = 0) -> Iterator["Node"]:
        """The entries of this list, each with its index in the path."""
        if not isinstance(self.value, list):
            self.fail(f"must be a list, got {shown(self.value)}")
        if len(self.value) < min_length:
            self.fail(f"must list at least {min_length} entr{'y' if min_length == 1 else 'ies'}")
        return (self.at(index) for index in range(len(self.value)))

    def whole(self, minimum: int | None = None, maximum: int | None = None) -> int:
        """A whole number within the bounds (inclusive); true/false and 14.0 are refused."""
        value = self.value
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(f"must be a whole number{_bounds(minimum, maximum)}, got {shown(value)}")
        return value

    def number(self, minimum: Any = None, maximum: Any = None, *, above: Any = None, below: Any = None) -> Decimal:
        """A number as an exact Decimal, within inclusive (minimum/maximum) or strict (above/below) bounds."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"must be a number{_bounds(minimum, maximum)}, got {shown(value)}")
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            self.fail(f"must be a finite number, got {shown(value)}")
        if (minimum is not None and number < Decimal(str(minimum))) or (
            maximum is not None and number > Decimal(str(maximum))
        ):
            self.fail(f"must be a number{_bounds(minimum, maximum)}, got {shown(value)}")
        if above is not None and not number > Decimal(str(above)):
            self.fail(f"must be a number above {above}, got {shown(value)}")
        if below is not None and not number < Decimal(str(below)):
            self.fail(f"must be a number below {below}, got {shown(value)}")
        return number

    def decimal_text(self) -> Decimal:
        """An exact number written in quotes ("1.5", as the CTCAE catalogue writes them) or plainly."""
        if isinstance(self.value, str):
            try:
                number = Decimal(self.value)
            except ArithmeticError:
                self.fail(f"must be a number, got {shown(self.value)}")
            if number.is_finite():
                return number
            self.fail(f"must be a finite number, got {shown(self.value)}")
        return self.number()

    def text(self, *, pattern: str | None = None, hint: str = "") -> str:
        """Non-empty text (a number where text is meant must be quoted: "1.0"), optionally matching a pattern."""
        value = self.value
        if not isinstance(value, str) or not value.strip():
            quote = " (quote it)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
            self.fail(f"must be text{quote}, got {shown(value)}")
        if pattern is not None and not re.fullmatch(pattern, value):
            self.fail(f"must be {hint or 'text matching ' + pattern}, got {shown(value)}")
        return value

    def choice(self, choices: tuple[str, ...] | frozenset[str]) -> str:
        """One of the allowed words."""
        ordered = tuple(choices) if isinstance(choices, tuple) else tuple(sorted(choices))
        if self.value not in ordered:
            self.fail(f"must be one of {', '.join(ordered)}, got {shown(self.value)}")
        return self.value

    def boolean(self) -> bool:
        """true or false (not "yes", not 1)."""
        if not isinstance(self.value, bool):
            self.fail(f"must be true or false, got {shown(self.value)}")
        return self.value

    def clock_time(self) -> str:
        """A site-local wall-clock time written "HH:MM" (quoted: YAML reads 16:00 unquoted as a number)."""
        if not isinstance(self.value, str) or not _CLOCK_TIME.match(self.value):
            self.fail(f'must be a local time "HH:MM" in quotes, got {shown(self.value)}')
        return self.value

    def optional(self) -> "Node | None":
        """None when the value is null, else this node."""
        return None if self.value is None else self
