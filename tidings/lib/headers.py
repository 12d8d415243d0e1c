"""Values that may end up in a mail header: one line of printable text.

A CR or LF in a topic name, a sender name or a subject would start a new header (`Bcc:` …) in
every message that carries it; NUL and the other control characters break parsers and the
database. They are refused where a value enters Tidings (model fields, API schemas, the CLI),
and the header writer refuses them again, so a value that slipped past fails its own message,
not a worker.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

MESSAGE = "must be one line without control characters (such as line breaks or NUL)"


def control_character(value: str) -> str | None:
    """Return the first control character in value (Unicode category Cc), or None."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            return char
    return None


def check_line(value: str) -> str:
    """Return value when it is a header-safe line, else raise ValueError (for pydantic)."""
    char = control_character(value)
    if char is not None:
        raise ValueError(f"{MESSAGE}; found U+{ord(char):04X}")
    return value


def validate_line(value: str) -> None:
    """Django field validator: refuse control characters with a field error."""
    try:
        check_line(value)
    except ValueError as error:
        raise ValidationError(str(error).capitalize(), code="control_character") from None


class HeaderValueError(ValueError):
    """A value that would break out of its header line; the message is not written."""


def refuse_unsafe(name: str, value: str) -> None:
    """Raise HeaderValueError when a header's value carries a control character."""
    char = control_character(value)
    if char is not None:
        raise HeaderValueError(
            f"the {name} header would carry the control character U+{ord(char):04X}"
        )
