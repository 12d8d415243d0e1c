"""Web tier benchmark: each public endpoint under wrk at 64 connections, beside the ceiling.

    .venv/bin/python bench/web.py [--seconds 10] [--connections 64] [--replay 1000000]
                                  [--fanout 1000000] [--cache-url redis://127.0.0.1:6379/5]

A fresh installation seeded with the press-release scenario (`tidings demo --no-serve`) runs
`tidings web` (granian, a process per core). In the same run a hello-world WSGI app runs on the
same server stack (granian, as many processes, as many threads): the ceiling. For each endpoint
it prints requests per second, p99 latency, errors and the ratio to the ceiling, measured
right before it.

--replay N sends N open and click hits over many recipients' tokens, then checks that the
database counted exactly as many as were answered (none lost, none twice).
--fanout N runs bench/fanout.py with N recipients (a second installation on this machine,
into a C SMTP sink) and measures the bulletin web copy while it sends.
Needs wrk and, for --replay, ab (Debian packages wrk and apache2-utils).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world\\n"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def wrk(url: str, seconds: int, connections: int, script: str = "") -> dict[str, float]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    argv += ["-s", script] if script else []
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout

    def number(pattern: str, default: float = 0.0) -> float:
        found = re.search(pattern, out)
        return float(found.group(1)) if found else default

    def ms(pattern: str) -> float:
        found = re.search(pattern + r"\s+([\d.]+)(us|ms|s)\b", out)
        if not found:
            return 0.0
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = number(r"Non-2xx or 3xx responses: (\d+)")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "p99_ms": ms(r"99%"),
        "errors": errors,
        "requests": number(r"(\d+) requests in"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--replay", type=int, default=0, help="open and click hits to replay")
    parser.add_argument("--fanout", type=int, default=0, help="recipients of a send meanwhile")
    parser.add_argument("--cache-url", default="", help="TIDINGS_CACHE_URL (default: files)")
    parser.add_argument("--only", default="", help="measure only endpoints whose name has this")
    parser.add_argument("--threads", type=int, default=8, help="request threads per process")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    data = Path(tempfile.mkdtemp(prefix="tidings-web-"))
    port, hello_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE_URL"))}
    env |= {
        "TIDINGS_DATA_DIR": str(data),
        "TIDINGS_BASE_URL": f"http://127.0.0.1:{port}",
        "TIDINGS_LOG_LEVEL": "WARNING",
    }
    if options.cache_url:
        env["TIDINGS_CACHE_URL"] = options.cache_url

    def tidings(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tidings", *argv],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"tidings {' '.join(argv)}:\n{done.stderr}")
        return done.stdout

    def shell(code: str) -> str:
        return tidings("django", "shell", "-c", code).strip().splitlines()[-1]

    tidings("demo", "--no-serve")
    # The chain runs once so that the list has its archived post (harness work, not measured).
    env["TIDINGS_SMTP_LISTEN"] = f"127.0.0.1:{free_port()}"
    chain = [
        subprocess.Popen([sys.executable, "-m", "tidings", role], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for role in ("smtpd", "worker")
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while shell(POSTS) == "0" and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for process in chain:
            process.terminate()
            process.wait(30)
    facts = json.loads(shell(FACTS))
    (data / "hello.py").write_text(HELLO)
    processes = len(os.sched_getaffinity(0))
    web = subprocess.Popen(
        [sys.executable, "-m", "tidings", "web", "--listen", f"127.0.0.1:{port}",
         "--threads", str(options.threads)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    hello = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(processes),
         "--blocking-threads", str(options.threads), "--host", "127.0.0.1", "--port", str(hello_port),
         "--log-level", "warning", "hello:application"],
        cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    results: list[tuple[str, str, dict[str, float]]] = []
    try:
        wait_http(f"{base}/")
        wait_http(f"http://127.0.0.1:{hello_port}/")
        hello_url = f"http://127.0.0.1:{hello_port}/"
        endpoints = [
            ("cached", "list archive index", f"/lists/{facts['list']}/"),
            ("cached", "post page", facts["post"]),
            ("cached", "bulletin web copy", f"/bulletins/{facts['bulletin']}/"),
            ("cached", "topic archive", facts["topic"]),
            ("cached", "subscribe page", f"/subscriptions/{facts['account']}/"),
            ("cached", "Atom feed", f"/lists/{facts['list']}/feed/"),
            ("search", "search (uncached)", f"/lists/{facts['list']}/search/?q=migration"),
            ("static", "stylesheet", facts["static"] + "tidings.css"),
            # Last: the hits keep each process's writer busy for a moment after.
            ("hits", "open image", f"/t/o/{facts['tokens'][0]}.gif"),
            ("hits", "click redirect", f"/t/c/{facts['tokens'][0]}/{facts['link']}/"),
        ]
        for kind, name, path in endpoints:
            if options.only not in name:
                continue
            if kind != "hits":
                urllib.request.urlopen(base + path, timeout=10).read()  # rendered, then cached
            # The ceiling is measured right before each endpoint: on a shared 2-core machine it
            # drifts by tens of percent within minutes, and a ratio to one early figure would
            # measure the drift.
            ceiling = wrk(hello_url, options.seconds, options.connections)
            result = wrk(base + path, options.seconds, options.connections)
            results.append((kind, name, result | {"ceiling": ceiling["rps"]}))

        print(f"\nweb tier, {processes} granian processes, wrk {options.connections} connections, "
              f"{options.seconds} s each, cache: {options.cache_url or 'files in the data dir'}")  # fmt: skip
        print(f"  {'endpoint':24} {'req/s':>9}  {'p99':>9}  errors  {'ceiling':>9}  ratio")
        for kind, name, r in results:
            print(f"  {name:24} {r['rps']:9,.0f}  {r['p99_ms']:6.1f} ms  {r['errors']:6.0f}  "
                  f"{r['ceiling']:9,.0f}  {r['rps'] / r['ceiling']:6.1%}  ({kind})")  # fmt: skip
        print("  (ceiling: a hello-world WSGI app on the same granian stack, measured just before)")

        if options.replay:
            replay(options, base, facts, tidings, shell)
        if options.fanout:
            during_fanout(options, base, facts)
    finally:
        for process in (web, hello):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        shutil.rmtree(data, ignore_errors=True)


POSTS = "from tidings.archive.models import Post; print(Post.objects.count())"
FACTS = """
import json
from tidings.archive.models import Post
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery
from tidings.lists.models import MailingList
from tidings.topics.models import Topic
from tidings.tracking.models import Link
from tidings.tracking.tokens import recipient_token
bulletin = Bulletin.objects.exclude(status="draft").order_by("pk").first()
post = Post.objects.order_by("pk").first()
topic = Topic.objects.order_by("pk").first()
link = Link.objects.filter(bulletin=bulletin).first() or Link.objects.create(bulletin=bulletin, position=0, url="https://www.state.gov/")
ids = list(Delivery.objects.filter(send__bulletin=bulletin).values_list("pk", flat=True))
from django.conf import settings
print(json.dumps({
    "static": "/" + settings.STATIC_URL.lstrip("/"),
    "bulletin": bulletin.pk, "account": bulletin.account.code,
    "list": post.mailing_list.name, "post": f"/lists/{post.mailing_list.name}/{post.slug}/",
    "topic": f"/bulletins/{topic.account.code}/{topic.code}/",
    "link": link.pk, "deliveries": ids, "tokens": [recipient_token(i) for i in ids],
}))
"""


def replay(options, base, facts, tidings, shell) -> None:  # type: ignore[no-untyped-def]
    """Send exactly N open and click hits (two opens for each click, over every recipient's
    token) with ApacheBench, which, unlike wrk, sends an exact number of requests and waits for
    every answer; the database must count exactly N."""
    urls = [f"{base}/t/o/{t}.gif" for t in facts["tokens"]]
    urls += [f"{base}/t/c/{t}/{facts['link']}/" for t in facts["tokens"]]
    opens = options.replay * 2 // 3
    shares = [opens // len(facts["tokens"])] * len(facts["tokens"])
    shares += [(options.replay - opens) // len(facts["tokens"])] * len(facts["tokens"])
    shares[0] += options.replay - sum(shares)
    # The hits of the measurements above are written within a second or so: wait for the count
    # to settle before taking it as the baseline.
    before, settled = -1, int(shell(COUNTED))
    while settled != before:
        time.sleep(2)
        before, settled = settled, int(shell(COUNTED))
    answered, failed, started = 0, 0, time.monotonic()
    for url, n in zip(urls, shares, strict=True):
        out = subprocess.run(
            ["ab", "-k", "-q", "-n", str(n), "-c", str(options.connections), url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        answered += int(re.search(r"Complete requests:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
        failed += int(re.search(r"Failed requests:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    seconds = time.monotonic() - started
    deadline = time.monotonic() + 30
    counted = int(shell(COUNTED)) - before
    while counted < answered and time.monotonic() < deadline:
        time.sleep(1)
        counted = int(shell(COUNTED)) - before
    print(f"\nreplay: {answered:,} open and click hits (ab, {options.connections} connections) over "
          f"{len(facts['tokens'])} recipients in {seconds:.0f} s ({answered / seconds:,.0f}/s), "
          f"{failed} failed; counted {counted:,}: "
          f"{'exact' if counted == answered == options.replay else 'MISMATCH'}")  # fmt: skip


COUNTED = """
from django.db.models import Sum
from tidings.tracking.models import Click, Open
print((Open.objects.aggregate(n=Sum("count"))["n"] or 0) + (Click.objects.aggregate(n=Sum("count"))["n"] or 0))
"""


def during_fanout(options, base, facts) -> None:  # type: ignore[no-untyped-def]
    """The web copy under load while bench/fanout.py sends to N recipients on this machine."""
    url = f"{base}/bulletins/{facts['bulletin']}/"
    alone = wrk(url, options.seconds, options.connections)
    fanout = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fanout.py"), "--n", str(options.fanout),
         "--baseline-n", "1000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    # Wait for the sending to start: the fan-out's workers appear.
    while fanout.poll() is None and not sending():
        time.sleep(0.5)
    during = wrk(url, options.seconds, options.connections)
    output, _ = fanout.communicate()
    rate = re.search(r"end to end .*?([\d,]+) messages/s", output)
    print(f"\nbulletin web copy while bench/fanout.py sends to {options.fanout:,} recipients:")
    print(f"  alone          {alone['rps']:9,.0f} req/s  p99 {alone['p99_ms']:7.1f} ms")
    print(f"  during the send {during['rps']:8,.0f} req/s  p99 {during['p99_ms']:7.1f} ms  errors "
          f"{during['errors']:.0f}")  # fmt: skip
    print(f"  the fan-out meanwhile: {rate.group(1) if rate else '?'} messages/s end to end")


def sending() -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if b"worker\x00--once" in (proc / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


if __name__ == "__main__":
    main()
