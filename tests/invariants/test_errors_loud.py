"""Errors are loud: an unhandled exception in a page, the SMTP server, a worker's role or the
SMSC is one log line with its traceback (JSON logs included), counted on /healthz; readers get
a branded 404 and 500 in their language, the 500 even with the database down.

The log is read where settings.LOGGING sends it: the root logger's stream handler, as Django
configured it at start (its stream and formatter swapped for the test's, JSON).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import smtplib
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from tests.smtp_helpers import free_port
from tidings.inbound import smtpd
from tidings.lib.logs import JsonFormatter, recent_errors
from tidings.ops import worker
from tidings.ops.worker import guarded
from tidings.texts import pdu
from tidings.texts.smsc import SMSC, Session


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What the configured log receives, as JSON lines."""
    configured = logging.getLogger().handlers + logging.getLogger("tidings").handlers
    (console,) = [h for h in configured if type(h) is logging.StreamHandler]
    stream, formatter = io.StringIO(), console.formatter
    previous = console.setStream(stream)
    console.setFormatter(JsonFormatter())
    yield stream
    console.setStream(previous)  # type: ignore[arg-type]
    console.setFormatter(formatter)


def lines(log: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


def errors() -> int:
    return recent_errors(settings.DATA_DIR / "errors")


def database_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(self: BaseDatabaseWrapper) -> None:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", down)


def test_a_page_that_fails_is_logged_with_its_traceback_and_counted(
    log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = errors()
    database_down(monkeypatch)
    reader = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="sw")
    response = reader.get("/")
    assert response.status_code == 500
    (line,) = [x for x in lines(log) if x["logger"] == "django.request"]
    assert line["level"] == "ERROR" and line["message"] == "Internal Server Error: /"
    assert "OperationalError: could not connect to server" in line["traceback"]
    assert "tidings/views.py" in line["traceback"]  # the view that failed, in the traceback
    # /healthz answers with the database down, and tells the operator.
    health = reader.get("/healthz").json()
    assert health["checks"]["database"].startswith("failed")
    assert health["server_errors_last_hour"] == before + 1


def test_the_500_page_is_branded_and_in_the_readers_language_with_the_database_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_down(monkeypatch)
    for language, words in (("sw", "Hitilafu imetokea"), ("es", "Algo salió mal")):
        page = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language).get("/")
        assert page.status_code == 500
        html = page.content.decode()
        assert f'<html lang="{language}"' in html and f"<h1>{words}</h1>" in html
        assert '<a href="/" class="brand">Tidings</a>' in html  # no agency: nothing to look up


@pytest.mark.django_db
def test_a_missing_page_is_branded_in_the_readers_language_and_no_error(
    log: io.StringIO,
) -> None:
    before = errors()
    page = Client(HTTP_ACCEPT_LANGUAGE="es").get("/lists/no-such-list/")
    assert page.status_code == 404
    html = page.content.decode()
    assert '<html lang="es"' in html and "<h1>Página no encontrada</h1>" in html
    assert '<a href="/" class="brand">Tidings</a>' in html
    assert errors() == before and lines(log) == []  # a reader's wrong address is no error


def test_the_smtp_servers_failures_are_logged_with_their_traceback(
    log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(address: str) -> bool:
        raise RuntimeError("the address book broke")

    monkeypatch.setattr(smtpd.addresses, "is_local_domain", broken)
    before = errors()
    port = free_port()
    controller = smtpd.make_controller("127.0.0.1", port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("example.org")
            client.mail("sender@example.org")
            code, _ = client.rcpt("news@lists.tidings.localhost")
    finally:
        controller.stop()
    assert code >= 400
    failed = [x for x in lines(log) if "the address book broke" in x.get("traceback", "")]
    assert failed and failed[0]["level"] == "ERROR"
    assert errors() == before + 1


def test_a_workers_failing_role_is_logged_with_its_traceback(
    log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def route() -> bool:
        raise RuntimeError("routing broke")

    # After a failure the role drops its connection; this test has none to drop.
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    before = errors()
    assert guarded(route)() is False
    (line,) = lines(log)
    assert line["logger"] == "tidings.worker" and "RuntimeError: routing broke" in line["traceback"]
    assert errors() == before + 1


def test_the_smscs_failures_are_logged_and_answered(
    log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Session, command: int, sequence: int, body: bytes) -> bytes:
        raise RuntimeError("the bind broke")

    monkeypatch.setattr(Session, "bind", broken)

    async def bind() -> tuple[int, int, int, int]:
        smsc = SMSC()
        port = await smsc.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(pdu.pdu(pdu.BIND_TRANSMITTER, 7, b"tidings\0secret\0\0\x34\0\0\0"))
        answer = pdu.HEADER.unpack(await asyncio.wait_for(reader.readexactly(16), 10))
        writer.close()
        await smsc.close()
        return answer

    before = errors()
    _, command, status, sequence = asyncio.run(bind())
    assert (command, status, sequence) == (pdu.GENERIC_NACK, pdu.ESME_RSYSERR, 7)
    (line,) = lines(log)
    assert line["logger"] == "tidings.texts.smsc" and "the bind broke" in line["traceback"]
    assert errors() == before + 1


def test_a_worker_that_dies_says_why_in_the_log(
    log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run(self: worker.Worker, once: bool = False) -> None:
        raise RuntimeError("the sender broke")

    monkeypatch.setattr(worker.Worker, "run", run)
    before = errors()
    with pytest.raises(SystemExit) as stopped:
        call_command("worker", "--role", "route", "--once")
    assert stopped.value.code == 1
    died = [x for x in lines(log) if x["message"] == "the worker stopped on an error"]
    assert died and "RuntimeError: the sender broke" in died[0]["traceback"]
    assert errors() == before + 1
