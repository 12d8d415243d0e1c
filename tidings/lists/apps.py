from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.lists"
    label = "lists"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Mailing lists", "lists_console:index", "viewer", 30),
    ]

    def ready(self) -> None:
        from tidings.lib.pagecache import account, mailing_list, shown_publicly
        from tidings.lists.models import MailingList

        # A list is shown on its own pages and its account's archive page.
        shown_publicly(
            MailingList, scopes=lambda row: [mailing_list(row.pk), account(row.account_id)]
        )
        # The address reader, inbound handlers, how the worker writes posts, periodic jobs.
        from tidings.lists import addresses, compose, inbound, jobs  # noqa: F401
