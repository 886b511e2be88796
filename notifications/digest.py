"""The weekly digest: on Monday each PM gets a direct message about their running integrations.

For each integration the PM runs (``tv_pm``, active or paused): who owes what (the ball in court and
the steps owed), what is late (days overdue) and what is due this week (Monday to Sunday). The
message goes to the PM's Slack user id as the channel (Slack opens a direct message for a user id),
so only PMs linked to a Slack user (``SlackUser``) get one. Once per PM and ISO week:
``digest:<user id>:<ISO week>``. The hourly reminder sweep writes it for TradingView's zone (its
Monday morning in ``TIME_ZONE``) from the integrations it reads for the reminders (``WeeklyDigest``),
each read once; ``plan_weekly_digest`` is the digest's own pass. Either costs a fixed number of
queries per batch of integrations. Names are escaped (``notifications.messages``); each integration
links to its page on the dashboard.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Prefetch, Q

from integrations.batches import in_batches
from integrations.clock import today_for
from integrations.models import Integration, IntegrationEvent, IntegrationStep, tradingview_zone
from integrations.standing import STEP_TEXTS, collecting_only_its_own, standing
from integrations.text import day_text, working_days
from notifications.messages import Mrkdwn, joined, link, mrkdwn, page_urls
from notifications.models import OutboxMessage
from notifications.outbox import Message, working_moment, write
from roadmap import standing as rules
from roadmap.models import Side
from roadmap.schedule import is_working_day

MAX_BLOCKS = 50  # Slack's limit per message
SIDE_NAMES = {Side.PARTNER: "the partner", Side.TRADINGVIEW: "TradingView", rules.BOTH: "both sides"}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def integration_summary(integration, now, day: date, url_of=None) -> tuple[Mrkdwn, bool, bool]:
    """Lines about one integration as of ``day``: (mrkdwn text, anything late, anything due this week).
    ``url_of``: ``page_urls(Side.TRADINGVIEW)``, looked up once for a whole digest."""
    week_end = day + timedelta(days=6 - day.weekday())
    url_of = url_of or page_urls(Side.TRADINGVIEW)
    header = mrkdwn("*{}*", link(url_of(integration.pk), integration))
    if integration.is_paused:
        header = mrkdwn("{} (paused)", header)
    lines = [header]
    owed = now.actionable_steps
    # The standing worked out the ball of an active integration already; a paused one's it leaves empty.
    ball = now.ball if integration.is_active else rules.ball_in_court(now.steps, rules.owed_steps(now.steps, owed))
    if ball.side:
        lines.append(f"Ball in court: {SIDE_NAMES.get(ball.side, ball.side)}")
        for side, name in ((Side.PARTNER, "The partner"), (Side.TRADINGVIEW, "TradingView")):
            if ball.for_side(side):
                lines.append(mrkdwn("{} owes: {}", name, joined("; ", ball.for_side(side))))
    else:
        lines.append("Nothing owed.")
    late = due = False
    for step in owed:
        step_standing = now.of(step)
        if step_standing is None:
            continue
        overdue = now.days_overdue(step)
        if overdue:
            late = True
            lines.append(
                mrkdwn(
                    "• Late: {} — {} overdue (due {})",
                    step,
                    working_days(overdue),
                    day_text(step_standing.deadline, weekday=True),
                )
            )
        elif day <= step_standing.deadline <= week_end:
            due = True
            lines.append(mrkdwn("• Due this week: {} — {}", step, day_text(step_standing.deadline, weekday=True)))
    return joined("\n", lines), late, due


def is_due(day: date) -> bool:
    """The digest is written on a working Monday."""
    return day.weekday() == 0 and is_working_day(day)


def covered() -> Q:
    """The integrations a digest lists (with ``Integration.objects.running()``, kicked off): their PM is on Slack."""
    return Q(kickoff_on__isnull=False, tv_pm__slack_account__isnull=False)


class WeeklyDigest:
    """The digests of ``day``'s week, gathered one integration at a time (``add``) and then written (``write``).

    Its own pass (``plan_weekly_digest``) reads the integrations it lists; the reminder sweep of the same
    Monday hands it those it reads already, with their standing as of ``noon``, so they are read once.
    """

    def __init__(self, day: date):
        self.day = day
        self.noon = datetime.combine(day, time(12), tradingview_zone())  # TradingView's noon: the PMs' day
        self.per_pm = defaultdict(list)  # user id -> [(integration name, text, late, due)]
        self.users = {}
        self.written: set[int] = set()  # PMs whose digest of the week is written already (``skip_written``)
        self.url_of = page_urls(Side.TRADINGVIEW)  # every integration's link: looked up once, not per integration

    def skip_written(self) -> None:
        """Leave out the PMs whose digest of this week is written already (one query): a sweep run again
        words no digest only to drop it."""
        suffix = f":{iso_week(self.day)}"
        reasons = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.DIGEST, reason_key__endswith=suffix)
        for reason in reasons.values_list("reason_key", flat=True):
            user_id = reason.removeprefix("digest:").removesuffix(suffix)
            if user_id.isdigit():
                self.written.add(int(user_id))

    def wants(self, integration) -> bool:
        """Whether ``integration`` is listed in a digest still to write."""
        return integration.tv_pm_id not in self.written

    def add(self, integration, now) -> None:
        """List ``integration`` (its PM on Slack) in its PM's digest, with ``now``, its standing at ``noon``."""
        self.users[integration.tv_pm_id] = integration.tv_pm
        self.per_pm[integration.tv_pm_id].append(
            (str(integration), *integration_summary(integration, now, self.day, self.url_of))
        )

    def write(self) -> int:
        """Write one digest per PM gathered; returns how many rows are new."""
        with transaction.atomic():
            return write(self.messages())

    def messages(self) -> list[Message]:
        week = iso_week(self.day)
        pending = []
        for user_id, items in self.per_pm.items():
            user = self.users[user_id]
            items.sort(key=lambda item: (not item[2], not item[3], item[0]))  # late first, then due this week
            late = sum(1 for item in items if item[2])
            due = sum(1 for item in items if item[3])
            headline = (
                f"Your week {week}: {len(items)} integration{'s' if len(items) != 1 else ''}, "
                f"{late} with late steps, {due} with steps due this week"
            )
            sections = [item[1] for item in items]
            blocks = [{"type": "header", "text": {"type": "plain_text", "text": headline[:150]}}]
            shown = sections[: MAX_BLOCKS - 2]
            blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}} for text in shown]
            if len(sections) > len(shown):
                blocks.append(
                    {
                        "type": "context",
                        "elements": [{"type": "mrkdwn", "text": f"… and {len(sections) - len(shown)} more"}],
                    }
                )
            text = mrkdwn("{}\n\n{}", headline, joined("\n\n", sections))
            pending.append(
                Message(
                    f"digest:{user_id}:{week}",
                    OutboxMessage.Kind.DIGEST,
                    recipient=user,
                    channel=user.slack_account.slack_user_id,
                    text=text,
                    blocks=blocks,
                    not_before=working_moment(tradingview_zone(), self.day),
                )
            )
        return pending


def plan_weekly_digest(day: date | None = None, batch_size: int = 500) -> int:
    """On a working Monday, write one digest per PM linked to Slack; returns how many rows are new."""
    day = day or today_for()
    if not is_due(day):
        return 0
    running = (
        Integration.objects.running()
        .filter(covered())
        .select_related("partner", "template", "tv_pm__slack_account")
        .prefetch_related(
            # A digest names the steps and their status: not their texts nor lists.
            Prefetch("steps", queryset=IntegrationStep.objects.order_by("position").defer(*STEP_TEXTS)),
            Prefetch("events", queryset=IntegrationEvent.objects.order_by("at", "id")),
        )
    )
    digest = WeeklyDigest(day)
    with collecting_only_its_own():
        for batch in in_batches(running, batch_size):
            for integration in batch:
                now = standing(
                    integration,
                    digest.noon,
                    steps=list(integration.steps.all()),
                    integration_events=integration.events.all(),
                )
                digest.add(integration, now)
        return digest.write()
