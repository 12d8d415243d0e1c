"""Agreement of the bounce classifier with the shared corpus's expectations.

    .venv/bin/python bench/bounces.py

Prints, for every report of ../shared/corpus/bounces (expected.csv), whether Tidings' verdict
(permanent, temporary, complaint, not a failure) matches the corpus's, and the same for
flufl.bounce's detectors alone (permanent when a detector names a permanent failure, temporary
when only temporary ones, else not a failure), the baseline measured in the same run. A
disagreement is listed with both readings.
"""

from __future__ import annotations

import csv
import os
import sys
from email import message_from_bytes
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
os.environ.setdefault("TIDINGS_DATA_DIR", str(ROOT / "data" / "bench"))

import django  # noqa: E402

django.setup()

from flufl.bounce import all_failures  # noqa: E402

from tidings.subscribers.bounces import classify  # noqa: E402
from tidings.subscribers.models import BounceEvent  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "bounces"
EXPECTED = {
    "permanent": BounceEvent.PERMANENT,
    "temporary": BounceEvent.TEMPORARY,
    "permanent/temporary": BounceEvent.PERMANENT,
    "feedback-report": BounceEvent.COMPLAINT,
    "not-a-bounce": BounceEvent.IGNORED,
    "success": BounceEvent.IGNORED,
    "auto-reply": BounceEvent.IGNORED,
}


def flufl_alone(msg) -> str:  # type: ignore[no-untyped-def]
    temporary, permanent = all_failures(msg)
    if permanent:
        return BounceEvent.PERMANENT
    if temporary:
        return BounceEvent.TEMPORARY
    return BounceEvent.IGNORED


def main() -> None:
    with open(CORPUS / "expected.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["file"].endswith(".mbox")]
    ours = theirs = 0
    differences = []
    for row in rows:
        msg = message_from_bytes((CORPUS / row["file"]).read_bytes(), policy=default)
        expected = EXPECTED[row["permanence"]]
        verdict = classify(msg)
        baseline = flufl_alone(msg)
        ours += verdict.kind == expected
        theirs += baseline == expected
        if verdict.kind != expected:
            differences.append((row["file"], expected, verdict.kind, verdict.reason))
    total = len(rows)
    print(f"reports: {total}")
    print(f"Tidings agrees with the corpus on {ours} ({ours / total:.1%})")
    print(f"flufl.bounce alone agrees on {theirs} ({theirs / total:.1%})")
    print(f"ratio: {ours / max(theirs, 1):.2f}x")
    for name, expected, got, reason in differences:
        print(f"  {name}: corpus says {expected}, Tidings {got} ({reason})")


if __name__ == "__main__":
    main()
