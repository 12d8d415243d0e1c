"""The network: accounts that opt in recommend each other's topics after a confirmation."""

from __future__ import annotations

from django.urls import reverse

from tests.subscribers.test_subscribe import confirm_link, path_of, queued_to
from tidings.subscribers import actions, network
from tidings.subscribers.models import Referral, Subscriber, SubscribeSettings
from tidings.topics.actions import create_topic
from tidings.topics.models import Category


def _categorized(account, name, category):  # type: ignore[no-untyped-def]
    topic = create_topic(account, name=name)
    topic.categories.add(Category.objects.create(account=account, name=category))
    return topic


def test_a_new_subscriber_is_offered_related_topics_and_comes_through_once_confirmed(
    client, account, other_account
) -> None:  # type: ignore[no-untyped-def]
    travel = _categorized(account, "Travel advisories", "Travel")
    theirs = _categorized(other_account, "Border crossings", "travel")
    _categorized(other_account, "Fisheries", "Oceans")  # another category: not offered
    actions.set_network(account, True)
    actions.set_network(other_account, True)

    actions.request_subscription(account, "ann@example.org", [travel])
    confirmed = client.post(path_of(confirm_link(queued_to("ann@example.org")[0])))
    page = confirmed.content.decode()
    assert "Border crossings" in page and "Other Agency" in page
    assert "Fisheries" not in page

    ann = Subscriber.objects.get(account=account, email="ann@example.org")
    [(offered, token)] = [(t, network.offer_token(ann, t)) for t in network.suggestions(ann)]
    assert offered == theirs
    answer = client.post(reverse("subscribers:network_offer", args=[token]))
    assert "sent a link" in answer.content.decode()
    # Still double opt-in: the other account mailed its own link; nothing counts before it.
    assert network.counts(other_account) == {"came": 0, "waiting": 1, "sent": 0}
    # Its confirmation, the welcome, then the other account's confirmation.
    mails = queued_to("ann@example.org")
    assert len(mails) == 3
    client.post(path_of(confirm_link(mails[2])))
    assert network.counts(other_account) == {"came": 1, "waiting": 0, "sent": 0}
    assert network.counts(account)["sent"] == 1
    assert Referral.objects.get().from_account == account


def test_an_account_out_of_the_network_is_neither_offered_nor_offers(
    account, other_account
) -> None:  # type: ignore[no-untyped-def]
    travel = _categorized(account, "Travel advisories", "Travel")
    _categorized(other_account, "Border crossings", "Travel")
    actions.set_network(account, True)  # the other account stays out
    ann = actions.subscribe(account, "ann@example.org", [travel], confirmed=True)
    assert network.suggestions(ann) == []
    assert SubscribeSettings.objects.get(account=account).network


def test_a_forged_offer_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(reverse("subscribers:network_offer", args=["forged"]))
    assert answer.status_code == 400


def test_the_console_page_joins_the_network_and_shows_the_counts(
    client, alice, victor, account
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("subscribers_console:network", args=[account.code])
    client.force_login(victor)
    assert client.post(url, {"network": "on"}).status_code == 404
    client.force_login(alice)
    client.post(url, {"network": "on"})
    assert SubscribeSettings.objects.get(account=account).network
    assert "is <strong>in the network" in client.get(url).content.decode()


def test_the_network_command_joins_and_shows_the_counts(account) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("network", "--account", account.code, "--join", stdout=out)
    assert "is in the network" in out.getvalue()
    assert SubscribeSettings.objects.get(account=account).network
