"""A consistent copy of an installation while it runs, and putting one back.

SQLite: the online backup API copies the database page by page under SQLite's own locking, so
writers (the SMTP server, workers) go on meanwhile and the copy is one consistent moment. The
data dir's secrets (the secret key, the capture secret) and DKIM keys go with it: a restored
database is useless without the keys its signed links and tokens were made with. So do the
files the database names: the media library (logos, images in mail already sent) and queued
imports. They are copied after the database: a file is written before the row that names it,
so every row of the copy finds its file.
PostgreSQL: use pg_dump and pg_restore and copy the same files (docs/DEPLOY.md); this module
refuses and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

from tidings.lib.env import private_dir

SECRETS = ("secret_key", "smtp_capture_secret")
# Folders of the data dir the database names files in: the media library, queued imports.
FOLDERS = ("media", "imports")
DATABASE = "tidings.sqlite3"


# Files still being written (media's "<digest>.part", temporary names): not yet anyone's.
PARTIAL = shutil.ignore_patterns("*.part", ".*")


class BackupError(Exception):
    """The backup or restore can't be made; the message says why and what to do."""


def sqlite_path() -> Path:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("sqlite3"):
        raise BackupError(
            "The database is PostgreSQL: back it up with pg_dump "
            "(pg_dump --format=custom --file=tidings.dump DBNAME), then copy the data dir's "
            f"secret_key, smtp_capture_secret, media/ and imports/ ({settings.DATA_DIR}) and "
            "your DKIM keys beside it; restore with pg_restore --clean --dbname=DBNAME "
            "tidings.dump and put the files back. See docs/DEPLOY.md."
        )
    return Path(db["NAME"])


def backup(destination: Path) -> dict[str, object]:
    """Write a consistent copy of the database and the keys into destination (a new folder)."""
    source = sqlite_path()
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty: choose a new folder.")
    private_dir(destination)
    copy = destination / DATABASE
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as target:
        live.backup(target, pages=1024)  # a step at a time: writers are let in between
    copy.chmod(0o600)
    files = [DATABASE]
    for name in SECRETS:
        if (settings.DATA_DIR / name).is_file():
            shutil.copy2(settings.DATA_DIR / name, destination / name)
            files.append(name)
    for folder in FOLDERS:  # after the database: see the module's docstring
        if (settings.DATA_DIR / folder).is_dir():
            shutil.copytree(settings.DATA_DIR / folder, destination / folder, ignore=PARTIAL)
            files.append(f"{folder}/")
    keys = settings.DKIM_KEY_DIR or ""
    if keys and Path(keys).is_dir():
        shutil.copytree(keys, destination / "dkim", dirs_exist_ok=False)
        files.append("dkim/")
    if settings.DKIM_KEY_FILE and Path(settings.DKIM_KEY_FILE).is_file():
        shutil.copy2(settings.DKIM_KEY_FILE, destination / "dkim.pem")
        files.append("dkim.pem")
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id DESC LIMIT 1")
        last = cursor.fetchone()
    manifest: dict[str, object] = {
        "made": datetime.now(UTC).isoformat(),
        "database": "sqlite",
        "files": files,
        "last_migration": list(last) if last else None,
    }
    (destination / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(source: Path, *, force: bool = False) -> dict[str, object]:
    """Put a backup in place of this installation's database, secrets, files and DKIM keys
    (stopped first). Keys already in place are kept unless force."""
    target = sqlite_path()
    manifest_file = source / "manifest.json"
    if not manifest_file.is_file() or not (source / DATABASE).is_file():
        raise BackupError(f"{source} is not a Tidings backup (no manifest.json and database).")
    manifest = json.loads(manifest_file.read_text())
    if target.exists() and target.stat().st_size > 0 and not force:
        raise BackupError(
            f"{target} already holds a database: stop Tidings, then restore with --force "
            "to replace it."
        )
    private_dir(settings.DATA_DIR)
    connection.close()
    for suffix in ("-wal", "-shm"):  # the old database's journal must not replay onto the copy
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    staged = target.with_suffix(".restoring")
    shutil.copy2(source / DATABASE, staged)
    os.replace(staged, target)
    target.chmod(0o600)
    for name in SECRETS:
        if (source / name).is_file():
            (settings.DATA_DIR / name).unlink(missing_ok=True)
            shutil.copy2(source / name, settings.DATA_DIR / name)
            (settings.DATA_DIR / name).chmod(0o600)
    for folder in FOLDERS:
        if (source / folder).is_dir():
            _replace_folder(source / folder, settings.DATA_DIR / folder)
    _restore_keys(source, force=force)
    return manifest


def _replace_folder(source: Path, target: Path) -> None:
    staged = target.with_name(f".{target.name}.restoring")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(source, staged)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staged, target)


def _restore_keys(source: Path, *, force: bool) -> None:
    """DKIM keys back where the settings look for them: a mail signed with another key than
    the one published in DNS fails DKIM."""
    keys = settings.DKIM_KEY_DIR or ""
    if keys and (source / "dkim").is_dir():
        folder = Path(keys)
        if force or not folder.is_dir() or not any(folder.iterdir()):
            private_dir(folder)
            for pem in (source / "dkim").iterdir():
                shutil.copy2(pem, folder / pem.name)
                (folder / pem.name).chmod(0o600)
    key = settings.DKIM_KEY_FILE or ""
    if key and (source / "dkim.pem").is_file() and (force or not Path(key).exists()):
        private_dir(Path(key).parent)
        shutil.copy2(source / "dkim.pem", key)
        Path(key).chmod(0o600)
