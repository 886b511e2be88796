"""Browsers ask every site for /favicon.ico: it is served, and every page names its icon."""

import pytest
from django.urls import reverse


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.django_db
def test_pages_link_their_icon(client, pm):
    login = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in login
    client.force_login(pm)
    page = client.get(reverse("portfolio")).content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in page and 'favicon.svg" type="image/svg+xml"' in page
    assert client.get("/static/favicon.svg").status_code == 200
