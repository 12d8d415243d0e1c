from __future__ import annotations

from tidings.accounts.models import Account


def create_account(
    *,
    code: str,
    name: str,
    sender_address: str,
    sender_name: str = "",
    postal_address: str = "",
    time_zone: str = "UTC",
) -> Account:
    """Create an account after validating every field."""
    account = Account(
        code=code,
        name=name,
        sender_address=sender_address,
        sender_name=sender_name or name,
        postal_address=postal_address,
        time_zone=time_zone,
    )
    account.full_clean()
    account.save()
    return account
