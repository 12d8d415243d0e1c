"""The network: accounts that opt in recommend each other's topics to new subscribers.

After someone confirms a subscription at an account in the network, the page shows a few listed
topics of the other accounts in it whose categories share a name with the categories of the
topics just confirmed (Travel, Health…). One click asks for that topic: the other account mails
its own confirmation link (double opt-in, whatever its own setting), and a `Referral` remembers
where the subscriber came from; it counts once they confirm.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from tidings.accounts.models import Account
from tidings.lib.tokens import BadToken, make_token, read_token
from tidings.subscribers import actions
from tidings.subscribers.models import Referral, Subscriber, SubscribeSettings, Subscription
from tidings.topics.models import Topic

SUGGESTIONS = 4
OFFER_SECONDS = 7 * 86400  # how long the page's buttons work


def in_network(account: Account) -> bool:
    return SubscribeSettings.objects.filter(account=account, network=True).exists()


def suggestions(subscriber: Subscriber, limit: int = SUGGESTIONS) -> list[Topic]:
    """Topics of other accounts in the network that share a category name with the ones the
    subscriber follows here; none when this account is not in the network."""
    if not in_network(subscriber.account):
        return []
    names = {
        name.lower()
        for name in Topic.objects.filter(subscriptions__subscriber=subscriber).values_list(
            "categories__name", flat=True
        )
        if name
    }
    if not names:
        return []
    matching = Q()
    for name in names:
        matching |= Q(categories__name__iexact=name)
    members = SubscribeSettings.objects.filter(network=True).values_list("account_id", flat=True)
    already = Subscription.objects.filter(subscriber__email__iexact=subscriber.email).values_list(
        "topic_id", flat=True
    )
    return list(
        Topic.objects.filter(matching, account_id__in=members, listed=True)
        .exclude(account=subscriber.account)
        .exclude(pk__in=already)
        .select_related("account")
        .distinct()
        .order_by("account__name", "name")[:limit]
    )


def offer_token(subscriber: Subscriber, topic: Topic) -> str:
    """The signed offer behind one suggestion's button: this subscriber, this topic."""
    return make_token("network", [subscriber.pk, topic.pk])


def take_offer(token: str) -> tuple[Subscriber, Topic, str]:
    """Ask for the offered topic (raise BadToken): the topic's account mails its confirmation
    link; return the subscriber, the topic and what was done."""
    value = read_token("network", token, OFFER_SECONDS)
    if not (isinstance(value, list) and len(value) == 2):
        raise BadToken("This link is not valid.")
    subscriber_id, topic_id = int(value[0]), int(value[1])
    subscriber = Subscriber.objects.select_related("account").filter(pk=subscriber_id).first()
    topic = Topic.objects.select_related("account").filter(pk=topic_id).first()
    if subscriber is None or topic is None:
        raise BadToken("This link is no longer valid.")
    if not (in_network(topic.account) and in_network(subscriber.account)):
        return subscriber, topic, "not offered"
    with transaction.atomic():
        Referral.objects.get_or_create(
            account=topic.account,
            email=subscriber.email,
            topic=topic,
            defaults={"from_account": subscriber.account},
        )
        if actions.is_suppressed(topic.account, subscriber.email):
            return subscriber, topic, "suppressed"
        other = actions.find_or_add(topic.account, subscriber.email)
        if other.status == Subscriber.CONFIRMED:
            actions.subscribe(topic.account, other.email, [topic])
            return subscriber, topic, "subscribed"
        if subscriber.language and not other.language:
            actions.set_language(other, subscriber.language)  # the language they chose already
        sent = actions.send_confirmation(other, [topic])
    return subscriber, topic, "confirmation sent" if sent else "confirmation sent recently"


def counts(account: Account) -> dict[str, int]:
    """How many people came to this account through the network: confirmed, and waiting."""
    emails = set(Referral.objects.filter(account=account).values_list("email", flat=True))
    confirmed = Subscriber.objects.filter(
        account=account, email__in=emails, status=Subscriber.CONFIRMED
    ).count()
    sent = Referral.objects.filter(from_account=account).values("email").distinct().count()
    return {"came": confirmed, "waiting": len(emails) - confirmed, "sent": sent}
