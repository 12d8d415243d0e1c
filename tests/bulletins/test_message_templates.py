"""Reusable message templates per account, chosen in the composer; a draft's text version and
template are saved when it is edited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tidings.bulletins.actions import create_bulletin, save_template, update_draft
from tidings.bulletins.email import BulletinRenderer
from tidings.bulletins.models import Bulletin, MessageTemplate


def test_a_bulletin_with_a_plain_template_has_its_words_and_no_banner(account, topic) -> None:  # type: ignore[no-untyped-def]
    plain = save_template(
        account,
        name="Letter",
        header="Dear reader of {{ topic }},",
        footer="Sent to {{ recipient }}.",
        layout=MessageTemplate.PLAIN,
    )
    bulletin = create_bulletin(account, subject="S", body="Body.", topics=[topic], template=plain)
    _, text, html = BulletinRenderer(bulletin)._parts(topic, "bob@example.org", {})
    assert f"Dear reader of {topic.name}," in text and "Sent to bob@example.org." in html
    assert "background:#0b4f9c" not in html  # no banner
    default = create_bulletin(account, subject="S2", body="Body.", topics=[topic])
    assert "background:#0b4f9c" in BulletinRenderer(default)._parts(topic, "x@example.org", {})[2]


def test_a_template_must_compile_and_be_the_accounts(account, other_account, topic) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="does not compile"):
        save_template(account, name="Bad", header="{% if %}", footer="", layout="banner")
    theirs = save_template(other_account, name="Theirs", header="", footer="", layout="banner")
    with pytest.raises(ValidationError, match="account"):
        create_bulletin(account, subject="S", body="B", topics=[topic], template=theirs)


def test_editing_a_draft_keeps_its_text_version_and_template(account, topic) -> None:  # type: ignore[no-untyped-def]
    chosen = save_template(account, name="T", header="", footer="", layout="plain")
    bulletin = create_bulletin(account, subject="S", body="B", topics=[topic])
    update_draft(
        bulletin, subject="S", body="B", topics=[topic], text="Short text", template=chosen
    )
    stored = Bulletin.objects.get(pk=bulletin.pk)
    assert (stored.text, stored.template) == ("Short text", chosen)
    update_draft(stored, subject="S", body="B2", topics=[topic])  # leaving them out keeps them
    stored = Bulletin.objects.get(pk=bulletin.pk)
    assert (stored.text, stored.template, stored.body) == ("Short text", chosen, "B2")


def test_an_admin_manages_templates_and_an_author_chooses_one(
    client, alice, erin, account, topic
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    url = reverse("console:templates", args=[account.code])
    client.post(url, {"name": "Alerts", "layout": "plain", "header": "Alert", "footer": "Bye"})
    chosen = MessageTemplate.objects.get(name="Alerts")
    client.force_login(erin)
    assert client.get(url).status_code == 404  # admins only
    compose = reverse("console:compose", args=[account.code])
    assert "Alerts" in client.get(compose).content.decode()
    form = {"subject": "T", "body_format": "markdown", "body": "B", "topics": [topic.pk]}
    client.post(compose, {**form, "template": chosen.pk, "action": "save"})
    assert Bulletin.objects.get().template == chosen
    client.force_login(alice)
    edit = reverse("console:template", args=[account.code, chosen.pk])
    assert "Delete the template Alerts?" in client.post(edit, {"delete": "1"}).content.decode()
    client.post(edit, {"delete": "1", "confirmed": "yes"})
    assert not MessageTemplate.objects.exists()
    assert Bulletin.objects.get().template is None
