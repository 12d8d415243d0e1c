"""Where the shared folder (corpus, tools) is: beside the checkout, or /work/shared."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _shared() -> Path:
    for candidate in (os.environ.get("TIDINGS_SHARED_DIR"), ROOT.parent / "shared", "/work/shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared()
