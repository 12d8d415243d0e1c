"""Public pages and subscriber mail in the reader's language: the subscribe page, the
preferences page, confirmations, welcomes and bulletins (Spanish and Swahili ship with Tidings)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.smtp_helpers import sink_server
from tests.subscribers.test_subscribe import confirm_link, path_of, queued_to
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.email import format_published
from tidings.delivery.worker import process_chunk
from tidings.lib import languages, pagecache
from tidings.lib.tokens import sign_id
from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber
from tidings.topics.models import Topic


def said(language: str, message: str, **values: object) -> str:
    """What Tidings says in a language (and a check that it is not the English)."""
    with translation.override(language):
        found = gettext(message)
    assert found != message, f"{message!r} has no {language} translation"
    return found % values if values else found


def test_a_request_asks_by_its_choice_then_its_browser() -> None:
    assert languages.requested({"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9,en;q=0.8"}) == "es"
    assert languages.requested({"HTTP_ACCEPT_LANGUAGE": "fr-FR, sw;q=0.5"}) == "sw"
    assert languages.requested({"HTTP_ACCEPT_LANGUAGE": "fr-FR, de"}) == ""
    assert languages.requested({"HTTP_ACCEPT_LANGUAGE": "*"}) == ""
    chosen = {"QUERY_STRING": "x=1&lang=sw", "HTTP_ACCEPT_LANGUAGE": "es"}
    assert languages.requested(chosen) == "sw"
    cookie = {"HTTP_COOKIE": "csrftoken=abc; django_language=es", "HTTP_ACCEPT_LANGUAGE": "en"}
    assert languages.requested(cookie) == "es"
    assert languages.requested({"QUERY_STRING": "lang=xx", "HTTP_ACCEPT_LANGUAGE": "es"}) == "es"


def test_the_page_cache_keeps_a_page_per_language() -> None:
    meta = {"PATH_INFO": "/subscriptions/X/", "HTTP_HOST": "h"}
    spanish = pagecache.key({**meta, "HTTP_ACCEPT_LANGUAGE": "es"})
    english = pagecache.key({**meta, "HTTP_ACCEPT_LANGUAGE": "en"})
    assert spanish != english
    assert pagecache.key({**meta, "HTTP_ACCEPT_LANGUAGE": "es-ES"}) == spanish
    assert pagecache.anonymous({"REQUEST_METHOD": "GET", "HTTP_COOKIE": "django_language=es"})


def test_the_subscribe_page_speaks_the_browsers_language_else_the_accounts(
    client: Client, account: Account, topic: Topic
) -> None:
    url = reverse("subscribers:subscribe", args=[account.code])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()
    assert '<html lang="es"' in html
    assert said("es", "Email address") in html
    # The same page for an English reader right after (the page cache keeps one per language).
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en"' in html and "Email address" in html
    account.language = "sw"
    account.save()
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="sw"' in html and said("sw", "Email address") in html
    assert client.get(url + "?lang=es").headers["Content-Language"] == "es"


def test_the_footers_chooser_remembers_a_language(
    client: Client, account: Account, topic: Topic
) -> None:
    url = reverse("subscribers:subscribe", args=[account.code])
    answer = client.get(reverse("language", args=["sw"]), {"next": url})
    assert answer.status_code == 302 and answer.headers["Location"] == url
    assert answer.cookies["django_language"].value == "sw"
    assert '<html lang="sw"' in client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    elsewhere = client.get(reverse("language", args=["es"]), {"next": "https://evil.example/"})
    assert elsewhere.headers["Location"] == "/"
    assert client.get(reverse("language", args=["xx"])).status_code == 404


def test_subscribing_in_spanish_gets_the_confirmation_and_the_welcome_in_spanish(
    client: Client, account: Account, topic: Topic
) -> None:
    url = reverse("subscribers:subscribe", args=[account.code])
    done = client.post(
        url, {"email": "ana@example.org", "topics": [topic.pk], "language": "es"}
    ).content.decode()
    assert said("es", "Check your email") in done
    assert Subscriber.objects.get(email="ana@example.org").language == "es"
    (confirmation,) = queued_to("ana@example.org")
    name = account.name
    assert confirmation["Subject"] == said("es", "Confirm your subscription to %(name)s", name=name)
    text = confirmation.get_body(("plain",)).get_content()
    assert (
        said("es", "If it wasn't you, ignore this email: nothing will be sent unless you confirm.")
        in text
    )
    assert 'lang="es"' in confirmation.get_body(("html",)).get_content()
    page = client.get(path_of(confirm_link(confirmation))).content.decode()
    assert '<html lang="es"' in page  # the subscriber's language, whatever the browser says
    client.post(path_of(confirm_link(confirmation)))
    _, welcome = queued_to("ana@example.org")
    assert welcome["Subject"] == said("es", "Welcome to %(name)s's updates", name=name)
    assert topic.name in welcome.get_body(("plain",)).get_content()


def test_the_open_form_never_changes_a_confirmed_subscribers_language(
    account: Account, topic: Topic
) -> None:
    ann = actions.subscribe(account, "ann@example.org", [topic], confirmed=True)
    actions.set_language(ann, "sw")
    actions.request_subscription(account, "ann@example.org", [topic], language="es")
    ann.refresh_from_db()
    assert ann.language == "sw"


def test_a_subscriber_chooses_a_language_on_the_preferences_page(
    client: Client, account: Account, topic: Topic
) -> None:
    ann = actions.subscribe(account, "ann@example.org", [topic], confirmed=True)
    token = sign_id("subscriber", ann.pk)
    page = client.get(reverse("subscribers:manage", args=[token])).content.decode()
    assert 'name="language"' in page and '<html lang="en"' in page
    answer = client.post(reverse("subscribers:language", args=[token]), {"language": "sw"})
    assert '<html lang="sw"' in answer.content.decode()
    ann.refresh_from_db()
    assert ann.language == "sw"
    # From now on its pages speak Swahili even to an English browser.
    page = client.get(reverse("subscribers:manage", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="sw"' in page.content.decode()
    refused = client.post(reverse("subscribers:language", args=[token]), {"language": "xx"})
    assert refused.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_bulletin_goes_to_each_subscriber_in_their_language(
    account: Account, topic: Topic
) -> None:
    ana = actions.subscribe(account, "ana@example.org", [topic], confirmed=True)
    actions.set_language(ana, "es")
    juma = actions.subscribe(account, "juma@example.org", [topic], confirmed=True)
    actions.set_language(juma, "sw")
    actions.subscribe(account, "bob@example.org", [topic], confirmed=True)
    bulletin = create_bulletin(account, subject="Notice", body="Body text.", topics=[topic])
    publish_bulletin(bulletin)
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    got = {}
    for _, rcpts, data in sink.received:
        msg = message_from_bytes(data, policy=default)
        got[rcpts[0]] = msg.get_body(("plain",)).get_content()
    assert said("es", "Unsubscribe") in got["ana@example.org"]
    assert said("sw", "Unsubscribe") in got["juma@example.org"]
    assert "Unsubscribe:" in got["bob@example.org"]
    bulletin.refresh_from_db()
    assert format_published(bulletin, "es") in got["ana@example.org"]
    assert format_published(bulletin, "en") in got["bob@example.org"]
    # The account's default header is translated too; its own words would not be.
    assert "Body text." in got["ana@example.org"]
    assert "You are subscribed to" not in got["ana@example.org"]
    assert "You are subscribed to" in got["bob@example.org"]


def test_an_accounts_language_is_its_subscribers_default(account: Account, topic: Topic) -> None:
    account.language = "sw"
    account.save()
    actions.request_subscription(account, "bob@example.org", [topic])
    (confirmation,) = queued_to("bob@example.org")
    assert confirmation["Subject"] == said(
        "sw", "Confirm your subscription to %(name)s", name=account.name
    )


def test_the_command_line_sets_an_accounts_and_a_subscribers_language(db: None) -> None:
    call_command("create_account", "--code", "CITY", "--name", "City", "--language", "sw",
                 "--sender-address", "news@tidings.localhost", stdout=StringIO())  # fmt: skip
    city = Account.objects.get(code="CITY")
    assert city.language == "sw"
    call_command("create_topic", "--account", "CITY", "--name", "Roads", "--code", "CITY_1",
                 stdout=StringIO())  # fmt: skip
    call_command("add_subscriber", "--account", "CITY", "--topic", "CITY_1", "--language", "es",
                 "a@example.org", stdout=StringIO())  # fmt: skip
    assert Subscriber.objects.get(account=city, email="a@example.org").language == "es"
    with pytest.raises(CommandError):
        call_command("add_subscriber", "--account", "CITY", "--topic", "CITY_1",
                     "--language", "xx", "b@example.org", stdout=StringIO())  # fmt: skip
