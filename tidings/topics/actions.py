from __future__ import annotations

from tidings.accounts.models import Account
from tidings.topics.models import Topic


def create_topic(
    account: Account,
    *,
    name: str,
    code: str = "",
    short_name: str = "",
    description: str = "",
    listed: bool = True,
) -> Topic:
    """Create a topic; its code defaults to ACCOUNT_n."""
    if not code:
        code = f"{account.code}_{account.topics.count() + 1}"
    topic = Topic(
        account=account,
        name=name,
        code=code,
        short_name=short_name or name,
        description=description,
        listed=listed,
    )
    topic.full_clean()
    topic.save()
    return topic
