import pytest

pytestmark = pytest.mark.django_db


def test_it_links_each_organization_and_public_list(client, account, wanabidii):  # type: ignore[no-untyped-def]
    page = client.get("/").content.decode()
    assert 'href="/subscriptions/USSTATEBPA/"' in page
    assert 'href="/lists/wanabidii/"' in page
