"""Time the archive's pages on a large list: server time per page, then concurrent load.

    .venv/bin/python bench/archive.py [--posts 100000] [--requests 2000] [--concurrency 16]

Imports a generated archive (as bench/import_mbox.py) into a fresh SQLite database unless
DATABASE_URL and TIDINGS_DATA_DIR are set; with --reuse it times a list already imported.
The issue's target: index, post and search pages under 50 ms of server time with 100,000 posts.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_import_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("import_mbox_bench", HERE / "import_mbox.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def server_times(urls: dict[str, str], rounds: int) -> None:
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1")
    for name, url in urls.items():
        client.get(url)  # warm caches
        times, cpu = [], []
        for _ in range(rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        # CPU time is what the page costs; wall time adds whatever else the machine is doing.
        print(
            f"{name:14} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms   "
            f"CPU median {statistics.median(cpu):6.1f} ms"
        )


def load_test(urls: list[str], requests: int, concurrency: int) -> None:
    from waitress.server import create_server

    from tidings.wsgi import application

    server = create_server(application, host="127.0.0.1", port=0, threads=concurrency)
    port = server.effective_port  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    latencies: list[float] = []

    def fetch(i: int) -> None:
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{urls[i % len(urls)]}") as r:
            r.read()
        latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(fetch, range(requests)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"{requests} requests, {concurrency} concurrent: {requests / elapsed:.0f} requests/s, "
        f"median {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
    )
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--list", default="bench")
    parser.add_argument("--reuse", action="store_true", help="time the list as it is")
    args = parser.parse_args()

    bench = load_import_bench()
    workdir = Path(tempfile.mkdtemp(prefix="tidings-bench-archive-"))
    bench.setup(workdir)
    from tidings.archive.importer import import_mbox
    from tidings.archive.models import Post
    from tidings.lists.actions import create_list
    from tidings.lists.models import MailingList

    mailing_list = MailingList.objects.filter(name=args.list).first()
    if mailing_list is None or not args.reuse:
        mailing_list = mailing_list or create_list(args.list)
        path = workdir / "archive.mbox"
        bench.write_mbox(path, args.posts)
        started = time.perf_counter()
        import_mbox(mailing_list, path)
        print(f"imported {args.posts} posts in {time.perf_counter() - started:.1f} s")
    count = Post.objects.filter(mailing_list=mailing_list).count()
    middle = Post.objects.filter(mailing_list=mailing_list).order_by("date")[count // 2]
    name = mailing_list.name
    urls = {
        "index": f"/lists/{name}/",
        "page 500": f"/lists/{name}/?page=500",
        "month": f"/lists/{name}/{middle.date.year}/{middle.date.month}/",
        "post": f"/lists/{name}/{middle.slug}/",
        "thread": f"/lists/{name}/thread/{middle.slug}/",
        "search": f"/lists/{name}/search/?q=rationing+council",
        "search 1": f"/lists/{name}/search/?q=topic+{count // 2 - count // 2 % 5}",
        "search p. 50": f"/lists/{name}/search/?q=rationing&page=50",
        "feed": f"/lists/{name}/feed/",
    }
    print(f"{count} posts on {name}; server time per page ({args.rounds} rounds):")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    server_times(urls, args.rounds)
    load_test(list(urls.values()), args.requests, args.concurrency)


if __name__ == "__main__":
    main()
