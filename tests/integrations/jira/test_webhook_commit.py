"""A Jira delivery is one INSERT committed on its own before the answer: no BEGIN and COMMIT
around it (the round trips a webhook's answer waits for), and still committed before Jira hears
2xx; a duplicate is still answered 200 without breaking anything."""

import json

import pytest
from django.db import connection
from django.db.models.signals import post_save

from integrations.jira.models import JiraDelivery
from tests.integrations.jira.conftest import fixture_body, new_delivery_id

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def at_insert():
    """What the connection was doing when each delivery row was written."""
    seen = []

    def record(sender, instance, created, **kwargs):
        seen.append({"atomic": connection.in_atomic_block, "autocommit": connection.get_autocommit()})

    post_save.connect(record, sender=JiraDelivery, weak=False)
    yield seen
    post_save.disconnect(record, sender=JiraDelivery)


def test_a_delivery_is_inserted_on_its_own_and_committed_before_the_answer(post_raw, at_insert):
    delivery_id = new_delivery_id()

    response = post_raw(fixture_body("jira_issue_created__task"), delivery_id=delivery_id)

    assert response.status_code == 202, response.content
    assert at_insert == [{"atomic": False, "autocommit": True}]  # the INSERT was its own transaction
    assert JiraDelivery.objects.filter(delivery_id=delivery_id, outcome="pending").exists()


def test_the_same_delivery_again_is_a_duplicate_and_stored_once(post_raw):
    delivery_id = new_delivery_id()
    body = fixture_body("jira_issue_created__task")

    first = post_raw(body, delivery_id=delivery_id)
    again = post_raw(body, delivery_id=delivery_id)

    assert (first.status_code, again.status_code) == (202, 200)
    assert json.loads(again.content) == {"status": "duplicate", "delivery": delivery_id}
    assert JiraDelivery.objects.filter(delivery_id=delivery_id).count() == 1
