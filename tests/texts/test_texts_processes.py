"""Text-to-subscribe through the commands a user runs: `tidings smsc`, a texts worker, and a
phone's text (`tidings text-from-phone`), each its own process, over real SMPP."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.ops.test_processes import operator_env, tidings
from tests.paths import ROOT


def shell(env: dict[str, str], code: str) -> str:
    return tidings(env, "django", "shell", "-v", "0", "-c", code).stdout.strip()


@pytest.mark.slow
def test_a_phone_texts_a_keyword_and_gets_the_answer_in_the_captured_outbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = operator_env(tmp_path)
    tidings(env, "demo", "--no-serve")
    code = shell(env, "from tidings.topics.models import Topic; print(Topic.objects.first().code)")
    account = shell(
        env, "from tidings.accounts.models import Account; print(Account.objects.first().code)"
    )
    assert (
        "subscribes to" in tidings(env, "set-keyword", code, "travel", "--account", account).stdout
    )
    processes = [
        subprocess.Popen([sys.executable, "-m", "tidings", *argv], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for argv in (["smsc"], ["worker", "--role", "texts"])
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 45
        while True:  # the worker binds to the SMSC once it listens
            sent = tidings(env, "text-from-phone", "+254712345678", "TRAVEL", check=False)
            if sent.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert sent.returncode == 0, sent.stderr
        answer = ""
        for _ in range(60):
            answer = shell(env, "from tidings.texts.models import CapturedText as C; "
                           "texts = C.objects.filter(destination='254712345678'); "
                           "print(' '.join(texts.values_list('body', flat=True)))")  # fmt: skip
            if answer:
                break
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)
    assert "you will get texts about" in answer and "STOP" in answer
    assert (
        shell(env, "from tidings.texts.models import Phone; print(Phone.objects.get().status)")
        == "confirmed"
    )
