"""The `tidings` command: Tidings' own commands, grouped by task, with dashed names.

Django's own commands (startapp, flush, runserver, shell…) stay reachable as `tidings django …`.
"""

from __future__ import annotations

import difflib
import os
import sys
from importlib.metadata import PackageNotFoundError, version

# Each task's commands, in the order an operator meets them: (the name typed, Django's name).
GROUPS: dict[str, list[str]] = {
    "Run": ["serve", "web", "smtpd", "smsc", "worker", "demo"],
    "Set up": [
        "create-account",
        "create-user",
        "create-topic",
        "create-api-token",
        "create-superuser",
        "check-dns",
    ],
    "Publish": ["publish", "send", "status", "pause", "resume", "cancel"],
    "Subscribers": ["add-subscriber", "import-subscribers", "export-subscribers", "network"],
    "Lists": ["create-list", "add-member", "allow-sender", "import-mbox"],
    "Feeds": ["add-watch", "poll-feeds"],
    "Texts": ["add-phone", "set-keyword", "text-from-phone"],
    "Maintain": ["migrate", "check", "doctor", "backup", "restore", "change-password"],
}
# Dashed names whose Django command is not the same name with underscores.
DJANGO_NAMES = {"create-superuser": "createsuperuser", "change-password": "changepassword"}
# One line for Django's commands listed above (Tidings' own say theirs in `help`).
DJANGO_HELP = {
    "create-superuser": "Create a login for the Django admin (it acts as admin of every account).",
    "change-password": "Change a user's password.",
    "migrate": "Create or update the database tables (serve and demo do it first).",
    "check": "Check the installation for problems.",
}


def tidings_version() -> str:
    try:
        return version("tidings")
    except PackageNotFoundError:
        return "unknown"


def django_name(name: str) -> str:
    return DJANGO_NAMES.get(name, name.replace("-", "_"))


def known() -> dict[str, str]:
    """Every name a user may type for a Tidings command, with the command's Django name."""
    names = {}
    for commands in GROUPS.values():
        for name in commands:
            names[name] = django_name(name)
            names[django_name(name)] = django_name(name)  # create_account, createsuperuser
    return names


def summary(name: str) -> str:
    if name in DJANGO_HELP:
        return DJANGO_HELP[name]
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()[django_name(name)], django_name(name))
    first = " ".join(str(command.help).split()).split(". ")[0]  # one sentence, one line
    return first if first.endswith((".", ")")) else first + "."


def overview() -> str:
    width = max(len(n) for commands in GROUPS.values() for n in commands) + 2
    lines = [
        f"Tidings {tidings_version()}: topics, bulletins, mailing lists and their archive.",
        "",
        "Usage: tidings <command> [options]     tidings help <command>     tidings --version",
    ]
    for group, commands in GROUPS.items():
        lines += ["", f"{group}:"]
        lines += [f"  {name:<{width}}{summary(name)}" for name in commands]
    lines += [
        "",
        "Django's own commands (shell, dbshell, flush, runserver…): tidings django <command>.",
    ]
    return "\n".join(lines)


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    words = argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    from tidings.lib.env import EmptySecret

    try:
        run(words)
    except EmptySecret as refused:
        # Settings are read on the first command: a clear line, not a traceback.
        sys.exit(f"tidings: refusing to start: {refused}")


def run(words: list[str]) -> None:
    from django.core.management import execute_from_command_line

    first = words[0] if words else ""
    if first in ("--version", "version"):
        print(f"tidings {tidings_version()}")
        return
    if first in ("", "-h", "--help", "help") and len(words) <= 1:
        setup()
        print(overview())
        return
    if first == "django":
        execute_from_command_line(["tidings django", *words[1:]])
        return
    names = known()
    if first == "help":
        wanted = words[1]
        if wanted not in names:
            unknown(wanted, names)
        execute_from_command_line(["tidings", names[wanted], "--help"])
        return
    if first not in names:
        unknown(first, names)
    execute_from_command_line(["tidings", names[first], *words[1:]])


def unknown(name: str, names: dict[str, str]) -> None:
    dashed = [n for n in names if "_" not in n]
    close = difflib.get_close_matches(name.replace("_", "-"), dashed, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    sys.exit(
        f"tidings: unknown command '{name}'.{hint} `tidings help` lists the commands; "
        "Django's own are `tidings django <command>`."
    )


if __name__ == "__main__":
    main()
