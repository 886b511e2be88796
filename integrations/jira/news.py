"""Jira's news for the partner's Slack channel (the roadmap's "Notifications from Jira").

An issue of the partner's project created, moved (its status changed) or commented is announced as
a ``jira_news`` domain event once its delivery is processed; ``notifications`` turns it into a short
line in the step's thread. Only what happened is said (the key, created / moved to a status /
commented), never what was written: the technical discussion stays in Jira. The event carries the
delivery's content key (its id when it has none), so news resent under another delivery id, or a
delivery replayed, is announced with the same key and written once.
"""

from datetime import UTC, datetime

from django.utils import timezone

from integrations import events
from integrations.context import ChangeContext
from integrations.jira.models import JiraDelivery, JiraIssue
from integrations.models import ChangeSource

CREATED, MOVED, COMMENTED = "created", "moved", "commented"
# What the partner hears of; a duplicate is the news of an earlier delivery, a failed one was not understood.
ANNOUNCED_OUTCOMES = (JiraDelivery.State.APPLIED, JiraDelivery.State.IGNORED, JiraDelivery.State.WAITING)


def what_happened(body) -> tuple[str, str] | None:
    """(created / moved / commented, the status moved to) said by a delivery's body; None for other news."""
    if not isinstance(body, dict):
        return None
    event = body.get("webhookEvent")
    if event == "jira:issue_created":
        return CREATED, ""
    if event == "comment_created":
        return COMMENTED, ""
    if event == "jira:issue_updated":
        changelog = body.get("changelog") if isinstance(body.get("changelog"), dict) else {}
        items = changelog.get("items") if isinstance(changelog.get("items"), list) else []
        for item in items:
            if isinstance(item, dict) and item.get("field") == "status" and item.get("toString"):
                return MOVED, str(item["toString"])[:100]
    return None


def _when(stamp) -> datetime | None:
    """Jira's ``timestamp`` (epoch milliseconds), never in the future; None when it is not a time."""
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    try:
        return min(datetime.fromtimestamp(stamp / 1000, tz=UTC), timezone.now())
    except (OverflowError, OSError, ValueError):
        return None


def announce(deliveries) -> int:
    """Announce the news of processed ``deliveries`` (with their outcome recorded); how many."""
    said = [(d, what_happened(d.body)) for d in deliveries if d.outcome in ANNOUNCED_OUTCOMES and d.issue_key]
    said = [(d, what) for d, what in said if what is not None]
    if not said:
        return 0
    issues = {
        issue.key: issue
        for issue in JiraIssue.objects.select_related("integration__partner", "step").filter(
            key__in={d.issue_key for d, _ in said}
        )
    }
    announced = []
    for delivery, (what, status) in said:
        issue = issues.get(delivery.issue_key)
        if issue is None or issue.integration is None:
            continue
        comment = delivery.body.get("comment") if isinstance(delivery.body.get("comment"), dict) else {}
        user = delivery.body.get("user") or comment.get("author")
        who = str(user.get("displayName") or "") if isinstance(user, dict) else ""
        at = _when(delivery.body.get("timestamp"))
        announced.append(
            events.RoadmapEvent(
                events.JIRA_NEWS,
                issue.integration,
                ChangeContext(source=ChangeSource.JIRA, by_name=who[:200] or "Jira", at=at),
                issue.step,
                {
                    "key": issue.key,
                    "what": what,
                    "status": status,
                    "news_key": delivery.content_key or delivery.delivery_id,
                },
            )
        )
    # A drain's news announced together: the outbox written once for the batch, not once per delivery;
    # no transaction held around it, as before (the news key makes each written once, whether resent,
    # replayed or announced by two workers at once).
    events.announce_all(announced)
    return len(announced)
