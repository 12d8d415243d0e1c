"""Shared bits of the operator commands: their base class, --json output and clear errors."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Django's options on every command: still accepted, not shown in a Tidings command's help.
GENERIC = {
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


class TidingsCommand(BaseCommand):
    """A Tidings command: its help shows its own options under its dashed name.

    Django's system checks import every URLconf and view (the API's schemas most of all):
    half of a short command's start. They run for the commands that start servers (`serve`,
    `web`, `smtpd`, `smsc`, `worker`, `demo` set `requires_system_checks = "__all__"`) and with
    `tidings check`; the others start without them."""

    requires_system_checks: list[str] | tuple[str, ...] | Literal["__all__"] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.prog = f"tidings {subcommand.replace('_', '-')}"
        for action in parser._actions:
            if GENERIC.intersection(action.option_strings):
                action.help = argparse.SUPPRESS
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        """Run from the command line: an unexpected error (a port taken, a bug) goes to the
        configured log with its traceback, JSON included, and is counted; the exit status is 1.
        (A CommandError is still the one line Django prints; `--traceback` still re-raises.)"""
        try:
            super().run_from_argv(argv)
        except Exception:
            if "--traceback" in argv:
                raise
            command = argv[1].replace("_", "-") if len(argv) > 1 else "command"
            logging.getLogger("tidings.commands").exception(
                "tidings %s stopped on an error", command
            )
            sys.exit(1)


def add_json_flag(parser: CommandParser) -> None:
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")


def output(command: BaseCommand, options: dict[str, Any], data: dict[str, Any], text: str) -> None:
    if options.get("json"):
        command.stdout.write(json.dumps(data, indent=2, default=str))
    else:
        command.stdout.write(text)


def as_command_error(exc: ValidationError) -> CommandError:
    if hasattr(exc, "message_dict"):
        parts = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
        return CommandError("; ".join(parts))
    return CommandError(" ".join(exc.messages))


def get_or_error(model: Any, what: str, **lookup: Any) -> Any:
    try:
        return model.objects.get(**lookup)
    except model.DoesNotExist:
        shown = ", ".join(f"{v}" for v in lookup.values())
        raise CommandError(f"No {what} {shown}.") from None
