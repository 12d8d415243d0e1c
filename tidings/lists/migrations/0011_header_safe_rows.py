"""Clean the header-bound values written before the rule knew U+2028, U+2029 and the bidi controls.

Such a value was accepted then and is refused now; left as it was, every bulletin of a topic
with one would fail. Each is made what `lib.headers.printable_line()` makes of it: line breaks
and controls become spaces, the bidi controls go. Only the rows that hold one are touched.
"""

from django.db import migrations

from tidings.lib.headers import printable_line

# Controls (C0 but NUL, which no row can hold; DEL; C1 with NEL), the line and paragraph
# separators, the bidi embeddings, overrides and isolates: the characters themselves (none is
# special in a class), so SQLite (Python's re) and PostgreSQL read the class the same way.
UNSAFE = (
    "["
    + "".join(chr(c) for c in [*range(1, 32), *range(0x7F, 0xA0), 0x2028, 0x2029])
    + "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    + "]"
)

FIELDS = [
    ("accounts", "Account", ["name", "sender_name"]),
    ("accounts", "SenderIdentity", ["name"]),
    ("topics", "Topic", ["name", "short_name"]),
    ("topics", "Category", ["name"]),
    ("lists", "MailingList", ["display_name", "subject_tag"]),
    ("lists", "Member", ["name"]),
    ("bulletins", "Bulletin", ["subject"]),
    ("bulletins", "MessageTemplate", ["name"]),
]


def clean(apps, schema_editor):  # type: ignore[no-untyped-def]
    for app, name, fields in FIELDS:
        model = apps.get_model(app, name)
        for field in fields:
            for row in model.objects.filter(**{f"{field}__regex": UNSAFE}).only("pk", field):
                value = printable_line(getattr(row, field)).strip()
                model.objects.filter(pk=row.pk).update(**{field: value})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_language"),
        ("topics", "0003_header_safe_values"),
        ("bulletins", "0007_bulletin_segment"),
        ("lists", "0010_language"),
    ]

    operations = [migrations.RunPython(clean, migrations.RunPython.noop)]
