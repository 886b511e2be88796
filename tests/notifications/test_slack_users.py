"""PMs found on Slack by e-mail, once, with the real WebClient against the fake Slack."""

import pytest

from notifications.models import SlackUser
from notifications.slack_users import link_by_email
from notifications.tasks import plan_reminders
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_staff_are_linked_by_email_once_and_the_rest_left_alone(fake_slack, pm):
    fake_slack.users = {pm.email: "U0ALICE"}
    UserFactory(username="carol", staff=True)  # not on Slack
    UserFactory(username="partner.dev")  # not staff: never looked up

    assert link_by_email() == 1
    assert SlackUser.objects.get(user=pm).slack_user_id == "U0ALICE"
    lookups = [call.body["email"] for call in fake_slack.calls("users.lookupByEmail")]
    assert sorted(lookups) == ["alice@example.com", "carol@example.com"]

    # Cached: the linked PM is not asked about again.
    assert link_by_email() == 0
    assert [call.body["email"] for call in fake_slack.calls("users.lookupByEmail")][2:] == ["carol@example.com"]


def test_a_slack_outage_stops_the_lookups_until_the_next_run(fake_slack, pm):
    fake_slack.users = {pm.email: "U0ALICE"}
    fake_slack.fail_next(1, status=500)

    assert link_by_email() == 0  # a 500 is a Slack error for that user; nothing is linked
    assert link_by_email() == 1


def test_without_slack_nothing_is_asked(slack_off, pm):
    assert link_by_email() == 0
    assert not SlackUser.objects.exists()


def test_the_daily_task_links_before_it_plans(fake_slack, pm):
    fake_slack.users = {pm.email: "U0ALICE"}

    plan_reminders.apply()

    assert SlackUser.objects.filter(user=pm, slack_user_id="U0ALICE").exists()
