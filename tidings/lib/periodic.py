"""The registry of periodic jobs (digests, expiries, feed polls): apps register, ops runs them.

An app registers a job with @periodic("name", every=seconds) in a module its AppConfig.ready()
imports; the worker's jobs role (ops.periodic.run_due) claims each due job with a conditional
UPDATE so that exactly one worker runs it per period.
"""

from __future__ import annotations

from collections.abc import Callable

JOBS: dict[str, tuple[int, Callable[[], object]]] = {}


def periodic(name: str, *, every: int) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[name] = (every, func)
        return func

    return register
