"""Query lookups Django lacks: an `in` of integers that takes ids too large for any column.

Django answers `pk=<a number past 64 bits>` with nothing (IntegerFieldOverflow), but not
`pk__in=[…]`: SQLite's driver raises OverflowError, so a form's multiple choice of topics posted
with such a number was a 500. Out-of-range values match no row, as they do for `exact`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerIn(In):
    def process_rhs(self, compiler: Any, connection: Any) -> Any:
        if self.rhs_is_direct_value():
            kind = self.lhs.output_field.get_internal_type()
            low, high = connection.ops.integer_field_range(kind)
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)


def register() -> None:
    """Make IntegerIn the `in` of every integer field (ids, foreign keys' columns)."""
    IntegerField.register_lookup(IntegerIn)
