"""Settings of the subscribers app, read from the environment (TIDINGS_* names)."""

from __future__ import annotations

from tidings.lib.env import env_bool, env_int

# Largest CSV the console accepts for an import (bigger files: `tidings import-subscribers`).
IMPORT_MAX_BYTES = env_int("TIDINGS_IMPORT_MAX_BYTES", 200_000_000)
# A running import whose progress has not moved for this long is claimed by another worker.
IMPORT_STALE_SECONDS = env_int("TIDINGS_IMPORT_STALE_SECONDS", 600)
# Rows a page of the console's subscriber and suppression lists.
CONSOLE_PAGE_SIZE = env_int("TIDINGS_CONSOLE_PAGE_SIZE", 50)
# PostgreSQL imports lock what they reference once a chunk and skip the per-row foreign-key
# triggers when the database role may (see importer._skip_fk_checks); false keeps the triggers.
IMPORT_SKIP_FK_CHECKS = env_bool("TIDINGS_IMPORT_SKIP_FK_CHECKS", True)
