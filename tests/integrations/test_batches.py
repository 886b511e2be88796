"""Walking rows a batch at a time: every row once, in key order, queries per batch and not per row."""

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from integrations.batches import in_batches, insert_rows, update_rows
from integrations.models import Integration, IntegrationStep
from notifications.models import OutboxMessage
from tests.factories import IntegrationFactory, PartnerFactory


@pytest.fixture
def integrations(pm):
    return [IntegrationFactory(partner=PartnerFactory(name=f"Batch {n}"), tv_pm=pm) for n in range(5)]


def with_steps():
    return Integration.objects.select_related("partner").prefetch_related(
        Prefetch("steps", queryset=IntegrationStep.objects.order_by("position"))
    )


def test_every_row_once_in_key_order_at_most_size_at_a_time(integrations):
    batches = list(in_batches(with_steps(), 2))

    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert [i.pk for batch in batches for i in batch] == sorted(i.pk for i in integrations)


def test_each_batch_costs_the_same_queries_whatever_its_size(integrations):
    def walk(size):
        with CaptureQueriesContext(connection) as queries:
            for batch in in_batches(with_steps(), size):
                for integration in batch:
                    list(integration.steps.all())  # prefetched: no query
                    str(integration.partner)  # selected with it: no query
        return len(queries)

    one_batch, five_batches = walk(500), walk(1)
    per_batch = 2  # the rows, then their steps
    assert one_batch == 1 + per_batch  # one query lists the keys
    assert five_batches == 1 + 5 * per_batch


def test_progress_is_told_after_each_batch(integrations):
    told = []
    for batch in in_batches(Integration.objects.all(), 2, progress_to=lambda done, total: told.append((done, total))):
        told.append(len(batch))

    assert told == [2, (2, 5), 2, (4, 5), 1, (5, 5)]


def test_a_row_that_stopped_matching_is_left_out(integrations):
    first, *rest = sorted(integrations, key=lambda i: i.pk)
    batches = in_batches(Integration.objects.exclude(state=Integration.State.CANCELLED), 2)
    seen = list(next(batches))
    Integration.objects.filter(pk=rest[-1].pk).update(state=Integration.State.CANCELLED)
    seen += [i for batch in batches for i in batch]

    assert [i.pk for i in seen] == [i.pk for i in [first, *rest[:-1]]]


def test_no_rows_no_batches(db):
    assert list(in_batches(Integration.objects.all(), 10)) == []


def test_a_batch_holds_at_least_one_row(db):
    with pytest.raises(ValueError, match="at least one row"):
        list(in_batches(Integration.objects.all(), 0))


def test_inserted_rows_hold_what_was_given_and_their_fields_defaults(integrations):
    when = integrations[0].created_at
    rows = [
        {"reason_key": f"test:{n}", "kind": "reminder", "integration_id": i.pk, "text": f"<{n}>", "blocks": [{"n": n}]}
        for n, i in enumerate(integrations)
    ]
    rows[0]["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Late* & <@U0ALICE>"}}]

    insert_rows(OutboxMessage, [{**row, "not_before": when} for row in rows])

    stored = list(OutboxMessage.objects.order_by("reason_key"))
    assert [(m.reason_key, m.integration_id, m.text, m.not_before) for m in stored] == [
        (f"test:{n}", i.pk, f"<{n}>", when) for n, i in enumerate(integrations)
    ]
    assert stored[0].blocks == rows[0]["blocks"]
    assert {(m.state, m.attempts, m.channel, tuple(m.emails), m.sent_at) for m in stored} == {
        (OutboxMessage.State.PENDING, 0, "", (), None)
    }


def test_a_row_breaking_a_unique_constraint_is_left_out_when_conflicts_are_ignored(integrations):
    first = {"reason_key": "once", "kind": "reminder", "text": "first"}
    insert_rows(OutboxMessage, [first])

    insert_rows(OutboxMessage, [{**first, "text": "again"}, {**first, "reason_key": "new"}], ignore_conflicts=True)

    assert dict(OutboxMessage.objects.values_list("reason_key", "text")) == {"once": "first", "new": "first"}


def test_updated_rows_hold_the_fields_given_and_keep_the_others_in_one_query(integrations):
    insert_rows(OutboxMessage, [{"reason_key": f"u:{n}", "kind": "reminder", "text": "old"} for n in range(3)])
    rows = list(OutboxMessage.objects.order_by("reason_key"))
    when = integrations[0].created_at
    for n, row in enumerate(rows[:2]):
        row.text, row.blocks, row.integration_id, row.sent_at = f"new {n}", [{"n": n}], integrations[n].pk, when
        row.channel = "changed in memory, not written"

    with CaptureQueriesContext(connection) as queries:
        update_rows(rows[:2], ["text", "blocks", "integration", "sent_at"])
    update_rows([], ["text"])

    assert len(queries) == 1
    stored = list(OutboxMessage.objects.order_by("reason_key"))
    assert [(m.text, m.blocks, m.integration_id, m.sent_at, m.channel) for m in stored] == [
        ("new 0", [{"n": 0}], integrations[0].pk, when, ""),
        ("new 1", [{"n": 1}], integrations[1].pk, when, ""),
        ("old", [], None, None, ""),
    ]


def test_rows_are_written_only_where_their_columns_still_hold_the_values_given(integrations):
    """A claim still ours: ``where`` is checked by the same statement that writes, which says which rows it wrote."""
    when = integrations[0].created_at
    insert_rows(OutboxMessage, [{"reason_key": f"w:{n}", "kind": "reminder", "text": "old"} for n in range(3)])
    rows = list(OutboxMessage.objects.order_by("reason_key"))
    OutboxMessage.objects.filter(pk=rows[1].pk).update(channel="taken meanwhile", sent_at=when)
    for row in rows:
        row.text, row.sent_at = f"ours {row.reason_key}", None

    with CaptureQueriesContext(connection) as queries:
        written = update_rows(rows, ["text", "sent_at"], where={"channel": "", "sent_at": None})

    assert len(queries) == 1
    assert written == {rows[0].pk, rows[2].pk}
    assert list(OutboxMessage.objects.order_by("reason_key").values_list("text", "sent_at")) == [
        ("ours w:0", None),
        ("old", when),
        ("ours w:2", None),
    ]
