"""Comment threads per step: both sides read them; internal comments are TradingView's alone.

Partners never see an internal comment (stage page, even previewed by staff; the API); bodies are
hostile text, escaped and length-limited; mentions of TradingView's people are announced once per
comment per person (the Slack side: tests/notifications/test_comment_mentions.py).
"""

import pytest
from django.urls import reverse

from integrations.comments import COMMENT_MAX, mentioned_people, post_comment
from integrations.models import Comment
from notifications.models import OutboxMessage
from roadmap.refusals import InvalidInput, NotAllowed
from tests.factories import UserFactory
from tests.integrations.helpers import step

pytestmark = pytest.mark.django_db

ENDPOINTS = "endpoints-implementation"
HOSTILE = '<script>alert("x")</script> <b>bold</b> & <!channel>'


@pytest.fixture
def endpoints(started_integration):
    return step(started_integration, ENDPOINTS)


@pytest.fixture
def thread(endpoints, pm, partner_user):
    post_comment(endpoints, pm, "Public: the spec moved to 1.9.")
    post_comment(endpoints, pm, "INTERNAL-ONLY: their CTO is leaving.", internal=True)
    post_comment(endpoints, partner_user, "We start Monday.")
    return endpoints


def stage_html(client, integration):
    return client.get(reverse("stage-page", args=[integration.pk])).content.decode()


def test_the_partner_never_sees_an_internal_comment_on_the_stage_page(
    client, partner_user, started_integration, thread
):
    client.force_login(partner_user)
    html = stage_html(client, started_integration)
    assert "Public: the spec moved to 1.9." in html and "We start Monday." in html
    assert "INTERNAL-ONLY" not in html


def test_staff_previewing_the_stage_page_see_what_the_partner_sees(client, pm, started_integration, thread):
    client.force_login(pm)
    html = stage_html(client, started_integration)
    assert "Public: the spec moved to 1.9." in html
    assert "INTERNAL-ONLY" not in html


def test_the_pm_reads_every_comment_on_the_integration_page_internal_ones_marked(
    client, pm, started_integration, thread
):
    client.force_login(pm)
    html = client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    assert "INTERNAL-ONLY: their CTO is leaving." in html and "We start Monday." in html
    assert html.count('<span class="badge internal">internal</span>') == 1
    assert "Comments (3)" in html
    assert "{#" not in html and "{%" not in html  # the templates' own comments stay out of the page


def test_the_partner_never_gets_an_internal_comment_from_the_api(client, partner_user, pm, thread):
    client.force_login(partner_user)
    bodies = [c["body"] for c in client.get(f"/api/v1/steps/{thread.pk}/comments/").json()["results"]]
    assert bodies == ["Public: the spec moved to 1.9.", "We start Monday."]
    client.force_login(pm)
    staff = client.get(f"/api/v1/steps/{thread.pk}/comments/").json()["results"]
    assert [c["internal"] for c in staff] == [False, True, False]


def test_a_partner_cannot_write_an_internal_comment_anywhere(client, partner_user, endpoints):
    with pytest.raises(NotAllowed):
        post_comment(endpoints, partner_user, "sneaky", internal=True)
    client.force_login(partner_user)
    response = client.post(
        f"/api/v1/steps/{endpoints.pk}/comments/", {"body": "sneaky", "internal": True}, content_type="application/json"
    )
    assert response.status_code == 403
    # The stage form has no internal choice; a forged one is ignored: the comment is public.
    client.post(reverse("stage-step-comment", args=[endpoints.pk]), {"body": "hello", "internal": "on"})
    assert list(Comment.objects.values_list("body", "internal")) == [("hello", False)]


def test_a_partner_cannot_comment_on_another_partners_step(client, endpoints):
    from tests.integrations.stage.support import other_partner_user

    eve, _ = other_partner_user()
    client.force_login(eve)
    assert client.post(reverse("stage-step-comment", args=[endpoints.pk]), {"body": "hi"}).status_code == 404
    with pytest.raises(NotAllowed):
        post_comment(endpoints, eve, "hi")
    assert not Comment.objects.exists()


def test_hostile_text_is_escaped_on_both_pages(client, pm, partner_user, started_integration, endpoints):
    post_comment(endpoints, partner_user, HOSTILE)
    client.force_login(partner_user)
    html = stage_html(client, started_integration)
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt; &amp; &lt;!channel&gt;" in html
    client.force_login(pm)
    html = client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_comment_too_long_is_refused_with_a_message_and_nothing_written(client, pm, partner_user, endpoints):
    body = "x" * (COMMENT_MAX + 1)
    with pytest.raises(InvalidInput, match=f"at most {COMMENT_MAX} characters; this has {COMMENT_MAX + 1}"):
        post_comment(endpoints, pm, body)
    client.force_login(pm)
    response = client.post(reverse("step-comment", args=[endpoints.pk]), {"body": body})
    assert response.status_code == 400
    assert "comment not posted: The comment is too long" in response.content.decode()
    client.force_login(partner_user)
    response = client.post(reverse("stage-step-comment", args=[endpoints.pk]), {"body": body})
    assert response.status_code == 400
    assert "The comment is too long" in response.content.decode()
    response = client.post(f"/api/v1/steps/{endpoints.pk}/comments/", {"body": body}, content_type="application/json")
    assert response.status_code == 400 and "too long" in response.content.decode()
    assert not Comment.objects.exists()


def test_an_empty_comment_is_refused(client, pm, endpoints):
    client.force_login(pm)
    response = client.post(reverse("step-comment", args=[endpoints.pk]), {"body": "  \r\n "})
    assert response.status_code == 400
    assert "Write the comment before posting it." in response.content.decode()
    assert not Comment.objects.exists()


def test_the_pm_posts_an_internal_comment_from_the_page_with_htmx(client, pm, endpoints):
    client.force_login(pm)
    response = client.post(
        reverse("step-comment", args=[endpoints.pk]),
        {"body": "Check with legal", "internal": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="steps"') or '<section id="steps"' in html[:200]
    assert f'id="comments-{endpoints.pk}" open' in html
    comment = Comment.objects.get()
    assert (comment.author, comment.body, comment.internal) == (pm, "Check with legal", True)


def test_mentions_match_staff_usernames_each_once(started_integration, pm):
    mei = UserFactory(username="mei", staff=True)
    UserFactory(username="bob.partner")  # not staff: a mention is only TradingView's people
    people = mentioned_people(started_integration, "@mei @MEI, @alice. and @bob.partner and mail@mei.example")
    assert people == [mei, pm]


def test_a_comment_without_a_slack_channel_writes_no_message(pm, partner_user, endpoints):
    post_comment(endpoints, partner_user, "@alice please look")
    assert not OutboxMessage.objects.exists()
