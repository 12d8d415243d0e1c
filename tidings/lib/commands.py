"""Shared bits of the operator commands: --json output and clear errors."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser


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
