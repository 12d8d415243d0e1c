"""Where the shared folder (corpus, tools) is: beside the checkout, or /work/shared."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# Screenshots and traces the browser tests leave for a person to look at.
ARTIFACTS = TESTS / "artifacts"


def _shared() -> Path:
    for candidate in (os.environ.get("TIDINGS_SHARED_DIR"), ROOT.parent / "shared", "/work/shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared()
