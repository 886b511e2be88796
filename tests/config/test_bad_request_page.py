"""A request Django cannot read (a form body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields)
answers the site's own 400 page, saying what happened, not a bare "Bad Request (400)"."""

import pytest
from django.urls import reverse

from integrations.models import Partner

pytestmark = pytest.mark.django_db


def test_a_form_too_large_to_read_gets_a_page_that_says_so(client, pm, settings):
    client.force_login(pm)
    huge = {"new_partner_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "new_partner_time_zone": "UTC"}
    response = client.post(reverse("integration-new"), huge)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>The request could not be read.</h1>" in html
    assert "nothing was saved" in html
    assert not Partner.objects.exists()
