"""The `tidings` command: Django's management commands, with dashes allowed in their names."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    from tidings.lib.env import EmptySecret

    try:
        execute_from_command_line(argv)
    except EmptySecret as refused:
        # Settings are read on the first command: a clear line, not a traceback.
        sys.exit(f"tidings: refusing to start: {refused}")


if __name__ == "__main__":
    main()
