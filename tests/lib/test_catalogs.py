"""The translations Tidings ships: complete, consistent with the English, compiled at start."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

from tidings.lib.languages import SOURCE, compile_catalogs

CATALOGS = sorted(SOURCE.glob("*/LC_MESSAGES/django.po"))


def test_every_language_of_the_settings_has_a_catalog() -> None:
    shipped = {po.parent.parent.name for po in CATALOGS}
    assert shipped == {code for code, _ in settings.LANGUAGES} - {"en"}


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_a_catalog_translates_everything_and_keeps_the_placeholders(po: Path) -> None:
    catalog = read_po(po.open("rb"))
    assert catalog.locale is not None and str(catalog.locale) == po.parent.parent.name
    assert catalog.num_plurals == 2
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{message.id!r} is not translated"
        assert not message.fuzzy, f"{message.id!r} is marked fuzzy"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        # Template variables of the account's default header and footer, HTML tags: kept.
        for marker in ("{{ topic }}", "{{ account }}", "{{ recipient }}", "<a href=", "<strong>"):
            if marker in ids[0]:
                assert all(marker in s for s in strings), (message.id, marker)


def read_mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as compiled:
        return gettext.GNUTranslations(compiled)


def test_catalogs_are_compiled_when_they_change_and_only_then(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(SOURCE, source)
    target = tmp_path / "compiled"
    assert sorted(compile_catalogs(source, target)) == sorted(
        po.parent.parent.name for po in CATALOGS
    )
    assert compile_catalogs(source, target) == []
    mo = target / "es" / "LC_MESSAGES" / "django.mo"
    assert read_mo(mo).gettext("Unsubscribe") not in ("", "Unsubscribe")
    po = source / "es" / "LC_MESSAGES" / "django.po"
    po.write_bytes(po.read_bytes() + b'\nmsgid "A new message"\nmsgstr "Un mensaje nuevo"\n')
    assert compile_catalogs(source, target) == ["es"]
    assert read_mo(mo).gettext("A new message") == "Un mensaje nuevo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext extracts the messages")
def test_the_catalogs_hold_every_message_marked_in_the_code(tmp_path: Path) -> None:
    """makemessages on a copy of the code finds no message the shipped catalogs lack."""
    code = tmp_path / "tidings"
    shutil.copytree(SOURCE.parent, code, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-a", "--no-obsolete"],
        cwd=code,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tidings.settings"},
    )
    for po in CATALOGS:
        shipped = {m.id for m in read_po(po.open("rb")) if m.id}
        found = {m.id for m in read_po((code / po.relative_to(SOURCE.parent)).open("rb")) if m.id}
        assert found - shipped == set(), f"{po.parent.parent.name}: run make messages"
        assert shipped - found == set(), f"{po.parent.parent.name}: obsolete messages"
