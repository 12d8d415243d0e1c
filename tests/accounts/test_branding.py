"""The agency's look: a media library, a logo and a colour on public pages and atop emails."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tidings.accounts import media
from tidings.accounts.actions import update_account
from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.email import BulletinRenderer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAYAAAC56t6BAAAAEklEQVR4nGP4z8DwHxkzkC4AADxAJfs1lD2/AAAAAElFTkSuQmCC"
)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture(autouse=True)
def _media_in_a_fresh_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path


def test_an_image_is_kept_once_by_its_content_and_served_for_a_year(client, account) -> None:  # type: ignore[no-untyped-def]
    first = media.store(account, upload("seal.png", PNG))
    again = media.store(account, upload("copy.png", PNG))
    assert first.pk == again.pk and (first.width, first.height) == (2, 3)
    url = media.media_url(first)
    assert url.endswith(f"/media/{first.digest}.png")
    answer = client.get(reverse("media", args=[first.filename]))
    assert answer["Content-Type"] == "image/png"
    assert "immutable" in answer["Cache-Control"]
    assert b"".join(answer.streaming_content) == PNG


def test_anything_but_a_raster_image_is_refused(client, account) -> None:  # type: ignore[no-untyped-def]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationError, match="Only PNG, JPEG, GIF and WebP"):
        media.store(account, upload("x.png", svg))
    with pytest.raises(ValidationError, match="5 MB"):
        media.store(account, upload("big.png", PNG + b"\0" * media.MAX_BYTES))
    assert client.get("/media/..%2F..%2Fsecret.png").status_code == 404
    assert client.get(reverse("media", args=["a" * 64 + ".svg"])).status_code == 404


def test_the_logo_and_colour_show_on_the_subscribe_page_and_atop_the_email(
    client, account, topic
) -> None:  # type: ignore[no-untyped-def]
    logo = media.store(account, upload("seal.png", PNG))
    update_account(account, logo=logo, brand_color="#b31942")
    page = client.get(reverse("subscribers:subscribe", args=[account.code])).content.decode()
    assert f'src="/media/{logo.filename}"' in page
    assert reverse("brand_css", args=[account.code]) + "?c=b31942" in page
    assert "Powered by Tidings" in page
    css = client.get(reverse("brand_css", args=[account.code])).content.decode()
    assert "--brand: #b31942" in css

    bulletin = create_bulletin(account, subject="Branded", body="Body.", topics=[topic])
    _, _, html = BulletinRenderer(bulletin)._parts(topic, "bob@example.org", {})
    assert f'src="{media.media_url(logo)}"' in html
    assert "background:#b31942" in html


def test_a_colour_must_be_a_colour(account) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        update_account(account, brand_color="red; background:url(x)")


def test_the_library_page_uploads_for_authors_and_refuses_bad_files(
    client, erin, victor, account
) -> None:  # type: ignore[no-untyped-def]
    url = reverse("console:media", args=[account.code])
    client.force_login(erin)
    client.post(url, {"image": upload("seal.png", PNG)})
    assert account.media.count() == 1
    bad = client.post(url, {"image": upload("x.png", b"GIF8not")})
    assert bad.status_code == 400 and "Only PNG" in bad.content.decode()
    client.force_login(victor)
    client.post(url, {"image": upload("other.png", PNG + b"x")})
    assert account.media.count() == 1


def test_the_confirmation_and_welcome_mails_carry_the_banner(client, account, topic) -> None:  # type: ignore[no-untyped-def]
    from tests.subscribers.test_subscribe import confirm_link, path_of, queued_to
    from tidings.subscribers.actions import request_subscription

    update_account(account, brand_color="#ffd700")  # light: dark text on it
    request_subscription(account, "ann@example.org", [topic])
    client.post(path_of(confirm_link(queued_to("ann@example.org")[0])))
    for mail in queued_to("ann@example.org"):
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert "background:#ffd700" in html and "color:#1b1b1b" in html
