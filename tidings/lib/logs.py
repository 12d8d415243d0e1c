"""Log lines as JSON objects (TIDINGS_LOG_FORMAT=json), one a line, for log collectors; and the
count of recent server errors that /healthz shows.

Fields: time, level, logger, message, and whatever the call passed in `extra` (a delivery line
carries `send` and `delivery`), plus the traceback when there is one.

Every process (web, SMTP server, workers, SMSC) logs through the root logger (settings.LOGGING),
so an unhandled exception anywhere is one line with its traceback; `ErrorCount` also counts it in
a file of the data dir, shared by the processes of one machine.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

# Attributes every LogRecord has: the rest came from `extra`.
STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {k: v for k, v in vars(record).items() if k not in STANDARD}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


# Minutes of errors kept and counted: /healthz says how many the last hour had.
WINDOW = 60


class ErrorCount(logging.Handler):
    """Count each error logged with its traceback: a byte appended to a file per minute in
    folder (appends of one byte never mix, whichever processes write at once)."""

    def __init__(self, folder: str, level: int = logging.ERROR) -> None:
        super().__init__(level)
        self.folder = Path(folder)

    def emit(self, record: logging.LogRecord) -> None:
        # Only failures of ours: a refused Host header (django.security) is the client's.
        if record.exc_info is None or record.name.startswith("django.security"):
            return
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            minute = self.folder / str(int(record.created // 60))
            fd = os.open(minute, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, b".")
            finally:
                os.close(fd)
        except OSError:
            pass  # a full disk, say: the error's own line is still written by the other handler


def recent_errors(folder: Path, now: float | None = None) -> int:
    """Errors counted in the last WINDOW minutes; older minutes are deleted on the way."""
    current = int((time.time() if now is None else now) // 60)
    count = 0
    try:
        minutes = list(folder.iterdir())
    except FileNotFoundError:
        return 0
    for minute in minutes:
        if not minute.name.isdigit():
            continue
        if current - int(minute.name) >= WINDOW:
            minute.unlink(missing_ok=True)
        else:
            try:
                count += minute.stat().st_size
            except FileNotFoundError:
                continue
    return count
