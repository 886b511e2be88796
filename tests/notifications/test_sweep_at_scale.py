"""The reminder sweep on a Monday with everything late: what it reads does not grow with the portfolio.

The default plan kicked off on Monday 2026-03-02: on Monday 2026-04-13 the partner's first step is 10
working days overdue (its reminder and the escalation) and TradingView's first tasks are weeks late; it is
also the day of the PMs' weekly digest.
"""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations import plan
from integrations.models import Integration, IntegrationStep, tradingview_zone
from notifications.models import OutboxMessage, ReminderSweep, SlackUser
from notifications.reminders import plan_reminders, sweep_reminders
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

K = OutboxMessage.Kind
MONDAY = date(2026, 4, 13)
INTERNAL = "C0INTERNAL"


@pytest.fixture
def on_slack(settings, pm):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    return pm


def portfolio(count, pm):
    """``count`` integrations kicked off on the same day, in TradingView's zone; only they run."""
    Integration.objects.update(state=Integration.State.CANCELLED)
    with on(KICKOFF, 9):
        for n in range(count):
            integration = IntegrationFactory(
                partner=PartnerFactory(name=f"Late {count} {n}", time_zone="UTC"),
                tv_pm=pm,
                slack_channel_id=f"C{count:03d}{n:04d}",
            )
            plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    OutboxMessage.objects.all().delete()
    ReminderSweep.objects.all().delete()


def without_inserts(queries) -> list[str]:
    """The statements but the bulk INSERTs (cut at SQLite's parameter limit, so they grow with the rows)."""
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("INSERT")]


def test_on_a_monday_the_reminders_and_the_weekly_digest_read_the_steps_once(on_slack):
    portfolio(4, on_slack)
    steps_table = IntegrationStep._meta.db_table
    with on(MONDAY, 6), CaptureQueriesContext(connection) as queries:
        written = plan_reminders(MONDAY)

    reads = [sql for sql in without_inserts(queries) if sql.startswith("SELECT") and f'FROM "{steps_table}"' in sql]
    assert len(reads) == 1  # one batch: its steps read once, for the reminders and the digest alike
    kinds = list(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds.count(K.OVERDUE) == 4  # each partner hears of its late step
    assert kinds.count(K.DIGEST) == 1  # and the PM gets the week's digest, listing all four
    digest = OutboxMessage.objects.get(kind=K.DIGEST)
    assert "Your week 2026-W16: 4 integrations, 4 with late steps" in digest.text
    assert written == OutboxMessage.objects.exclude(state=OutboxMessage.State.DIGESTED).count()


def test_beats_monday_run_with_everything_late_costs_the_same_queries_for_3_or_12_integrations(on_slack):
    counts, written = {}, {}
    for size in (3, 12):
        portfolio(size, on_slack)
        moment = datetime(MONDAY.year, MONDAY.month, MONDAY.day, 9, 15, tzinfo=UTC)
        with on(MONDAY, 9), CaptureQueriesContext(connection) as queries:
            written[size] = sweep_reminders(moment)
        counts[size] = len(without_inserts(queries))
        late = OutboxMessage.objects.filter(kind=K.OVERDUE).count()
        assert late == size  # everything is late: each partner is reminded
    assert written[12] > written[3]
    assert counts[3] == counts[12]


def test_beats_run_planning_tradingviews_day_and_a_partner_zones_day_reads_the_steps_once(on_slack):
    """At 09:15 UTC on a Monday it is past 10 in Berlin and in London (``TIME_ZONE``): both days are planned in
    the same run, each integration's steps read once for both."""
    portfolio(4, on_slack)
    Integration.objects.filter(partner__name__startswith="Late 4 ").update(slack_channel_id="")
    berlin = [PartnerFactory(name=f"Berlin {n}", time_zone="Europe/Berlin") for n in range(2)]
    for n, partner in enumerate(berlin):
        integration = Integration.objects.filter(partner__name=f"Late 4 {n}").get()
        integration.partner = partner
        integration.slack_channel_id = f"CBERLIN{n}"
        integration.save()
    steps_table = IntegrationStep._meta.db_table
    moment = datetime(MONDAY.year, MONDAY.month, MONDAY.day, 9, 15, tzinfo=UTC)
    with on(MONDAY, 9), CaptureQueriesContext(connection) as queries:
        sweep_reminders(moment)

    reads = [sql for sql in without_inserts(queries) if sql.startswith("SELECT") and f'FROM "{steps_table}"' in sql]
    assert len(reads) == 1  # one batch: its steps read once, for TradingView's day and Berlin's alike
    assert set(ReminderSweep.objects.values_list("zone", flat=True)) == {"Europe/Berlin", tradingview_zone().key}
    overdue = OutboxMessage.objects.filter(kind=K.OVERDUE)
    assert sorted(overdue.values_list("channel", flat=True)) == ["CBERLIN0", "CBERLIN1"]
    assert OutboxMessage.objects.filter(kind=K.DIGEST).count() == 1


def test_a_mondays_sweep_looks_its_page_links_up_the_same_times_for_3_or_12_integrations(
    on_slack, settings, monkeypatch
):
    """The links of a sweep's messages and digests lead to two pages: the path around the key is looked up
    (a thread-local read of the URL configuration) once per side and digest, not once per message."""
    from notifications import messages

    settings.SITE_URL = "https://roadmap.example.com"
    looked_up = []
    around_key = messages._around_key
    monkeypatch.setattr(messages, "_around_key", lambda name: looked_up.append(name) or around_key(name))
    counts = {}
    for size in (3, 12):
        portfolio(size, on_slack)
        looked_up.clear()
        with on(MONDAY, 6):
            plan_reminders(MONDAY)
        counts[size] = len(looked_up)
        assert OutboxMessage.objects.filter(kind=K.OVERDUE).count() == size
        overdue = OutboxMessage.objects.filter(kind=K.OVERDUE).first()
        button = overdue.blocks[-1]["elements"][-1]
        assert button["url"] == "https://roadmap.example.com" + reverse("stage-page", args=[overdue.integration_id])
    assert counts[3] == counts[12]
