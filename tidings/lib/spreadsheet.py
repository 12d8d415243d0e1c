"""CSV that a spreadsheet opens safely: no cell runs as a formula.

Subscriber addresses, names and bounce replies come from outside. A cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice and Google
Sheets (`=HYPERLINK(…)`, DDE); such cells are written with a leading apostrophe, which the
spreadsheets show as text (OWASP's advice), and the importer takes it off again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """Return the cell as a spreadsheet must get it: text that looks like a formula quoted."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def unquote_cell(value: str) -> str:
    """Undo safe_cell() on a cell read back from such a file."""
    if value.startswith("'") and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


class SafeWriter:
    """csv.writer whose rows go through safe_cell()."""

    def __init__(self, out: _Writable) -> None:
        self.writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> Any:
        return self.writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
