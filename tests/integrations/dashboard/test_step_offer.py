"""The steps table offers only what can be done now, and explains the rest once.

A fresh kick-off shows buttons on the steps that can move today, one short "waits for" line on
the steps that wait for others, and no "Not now" sentence; a paused integration shows one banner
and no button or sentence per step. A direct POST is still refused with the whole reason.
"""

import re

import pytest
import time_machine
from django.urls import reverse

from integrations import plan
from integrations.actions import StepOffer, step_offer
from tests.integrations.helpers import KICKOFF, at, ctx, step

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def steps_section(html: str) -> str:
    """The steps table without the comment threads (their "Post" buttons are not step actions)."""
    section = html[html.index('<section id="steps"') : html.index("</section>", html.index('<section id="steps"'))]
    return re.sub(r'<details class="thread".*?</details>', "", section, flags=re.S)


def page(client, integration) -> str:
    return steps_section(client.get(reverse("integration-page", args=[integration.pk])).content.decode())


def test_a_fresh_kick_off_offers_buttons_only_where_a_step_can_move(staff_client, started_integration):
    html = page(staff_client, started_integration)
    steps = list(started_integration.steps.order_by("position"))
    waiting = [s for s in steps if s.depends_on]
    free = [s for s in steps if not s.depends_on]
    assert "Not now" not in html
    assert "disabled" not in html
    assert "resume it first" not in html
    # One short line per waiting step, and only there.
    assert html.count("waits for:") == len(waiting)
    for s in waiting:
        row = html[html.index(f'id="step-{s.pk}"') :].split("</tr>")[0]
        assert "<button" not in row
        assert row.count("waits for:") == 1
    # The steps free to move offer their buttons.
    for s in free:
        row = html[html.index(f'id="step-{s.pk}"') :].split("</tr>")[0]
        assert ">Start</button>" in row and ">Mark done</button>" in row
    assert len(re.findall(r"<button type=\"submit\"", html)) == 4 * len(free)  # start, done, block, n/a


def test_a_paused_integration_shows_one_banner_and_no_step_buttons(staff_client, pm, started_integration):
    with time_machine.travel(at(KICKOFF.replace(day=4), 10), tick=False):
        plan.pause(started_integration, ctx(pm, at(KICKOFF.replace(day=4), 10), note="Partner on holiday"))
    html = page(staff_client, started_integration)
    assert html.count("Paused: resume to act on steps") == 1
    assert "<button" not in html
    assert "resume it first" not in html
    assert "Not now" not in html
    assert "waits for:" not in html


def test_a_direct_post_on_a_paused_integration_still_says_why(staff_client, pm, started_integration):
    with time_machine.travel(at(KICKOFF.replace(day=4), 10), tick=False):
        plan.pause(started_integration, ctx(pm, at(KICKOFF.replace(day=4), 10), note="Partner on holiday"))
    onboarding = step(started_integration, "slack-jira-onboarding")
    response = staff_client.post(reverse("step-action", args=[onboarding.pk, "start"]), follow=True)
    assert "is paused; resume it first." in response.content.decode()
    assert step(started_integration, "slack-jira-onboarding").status == "not_started"


def test_a_waiting_step_offers_nothing_but_its_line_and_a_free_one_its_actions(pm, started_integration):
    steps = list(started_integration.steps.order_by("position"))
    for s in steps:
        s.integration = started_integration
    waiting = next(s for s in steps if s.depends_on)
    offer = step_offer(waiting, pm, steps)
    assert offer == StepOffer([], offer.line)
    assert offer.line.startswith("waits for: ")
    first = next(s for s in steps if not s.depends_on)
    names = [a.name for a in step_offer(first, pm, steps).actions]
    assert names == ["start", "complete", "block", "not_applicable"]
