"""Notices on roadmap events: who hears what when a step moves, the plan changes or the integration launches.

Connected to ``integrations.events.roadmap_event`` (``NotificationsConfig.ready``), so each notice is
an outbox row written in the same transaction as the change: no change without its message, and no
message without its change. Each handler says which messages an event makes; the receiver writes them.

- TradingView finishes a task: the partner channel hears what is done and what is now theirs, with
  its deadline (the roadmap's "TradingView notifies the partner via Slack").
- The partner finishes a step: the internal channel hears it; when Jenkins finished it (its
  autotests passed), the partner's channel hears it too.
- A step is blocked or unblocked: the channel of the side that owes it.
- Kicked off: the partner's channel is welcomed (the roadmap, its first steps and due dates, its PM,
  its stage page). A launch date agreed: the partner's channel hears it and who agreed it.
- Re-planned: both channels. Launched: both channels, and an e-mail to the partner's contacts.
- The partner hands over a URL (with its check's result), the sheet or beta testers: the internal
  channel, in the thread of the step waiting for it.
- Any status change: the step's first message in each channel is updated in place.

What people wrote (notes, hand-over summaries, names from Jira) is passed to the message builders
as plain text, which they escape (``notifications.messages``); each message links to the page of the
side whose channel it goes to.
"""

import hashlib
import re

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone

from integrations import events
from integrations.models import ChangeSource, tradingview_zone
from integrations.read_models.headline import moved_for_holiday
from integrations.standing import standing
from integrations.text import day_text
from notifications.messages import (
    Mrkdwn,
    integration_blocks,
    link,
    mention,
    mrkdwn,
    page_url,
    readers_of,
    step_blocks,
    thread_status_blocks,
)
from notifications.models import OutboxMessage, SlackThread
from notifications.outbox import Message, working_moment, write
from roadmap import standing as rules
from roadmap.models import Side, StepStatus

K = OutboxMessage.Kind


def channel_of(integration, side: str) -> str:
    return integration.slack_channel_id if side == Side.PARTNER else settings.SLACK_INTERNAL_CHANNEL


@receiver(events.roadmap_event)
def on_roadmap_event(sender, event, batched=False, **kwargs):
    if batched:
        return  # written with its batch (``on_roadmap_events``)
    handler = HANDLERS.get(event.kind)
    if handler is not None:
        write(handler(event))


@receiver(events.roadmap_events)
def on_roadmap_events(sender, **kwargs):
    """Events announced together: the threads of their steps read once, their notices written at once."""
    announced = kwargs["events"]
    steps = [event.step for event in announced if event.kind == events.STEP_CHANGED]
    threads = {step.pk: [] for step in steps}
    for thread in SlackThread.objects.filter(step__in=steps).exclude(ts="") if steps else []:
        threads[thread.step_id].append(thread)
    notices = []
    for event in announced:
        if event.kind == events.STEP_CHANGED:
            notices += step_changed(event, threads[event.step.pk])
        elif event.kind in HANDLERS:
            notices += HANDLERS[event.kind](event)
    write(notices)


def _stamp(event) -> str:
    """What makes a notice's reason unique: the change's moment (a step can be done, reopened, done again)."""
    return f"{event.context.moment:%Y%m%dT%H%M%S%f}"


def step_changed(event, threads=None) -> list[Message]:
    step, integration = event.step, event.integration
    to_status, from_status = event.details["to_status"], event.details["from_status"]
    notices = []
    if to_status == StepStatus.DONE:
        if step.side == Side.TRADINGVIEW:
            notices += _handed_over(event)
        elif settings.SLACK_INTERNAL_CHANNEL:
            text, blocks = step_blocks(
                step, "The partner finished a step", f"{event.context}.", buttons=False, readers=Side.TRADINGVIEW
            )
            notices.append(
                Message(
                    f"partner_done:{step.pk}:{_stamp(event)}",
                    K.PARTNER_DONE,
                    text=text,
                    blocks=blocks,
                    integration=integration,
                    step=step,
                    channel=settings.SLACK_INTERNAL_CHANNEL,
                    not_before=working_moment(tradingview_zone()),
                )
            )
        if step.side == Side.PARTNER and event.context.source == ChangeSource.JENKINS:
            notices += _done_on_evidence(event)
    elif to_status == StepStatus.BLOCKED or from_status == StepStatus.BLOCKED:
        kind = K.BLOCKED if to_status == StepStatus.BLOCKED else K.UNBLOCKED
        headline = "Blocked" if kind == K.BLOCKED else "Unblocked"
        channel = channel_of(integration, step.side)
        if channel:
            text, blocks = step_blocks(step, headline, event.context.note, readers=step.side)
            zone = integration.partner.zone if step.side == Side.PARTNER else tradingview_zone()
            notices.append(
                Message(
                    f"{kind}:{step.pk}:{_stamp(event)}",
                    kind,
                    text=text,
                    blocks=blocks,
                    integration=integration,
                    step=step,
                    channel=channel,
                    not_before=working_moment(zone),
                )
            )
    return notices + _update_threads(event, threads)


def _done_on_evidence(event) -> list[Message]:
    """A partner step Jenkins completed (its autotests passed): the partner hears it too, as nobody clicked."""
    step, integration = event.step, event.integration
    channel = integration.slack_channel_id
    if not channel:
        return []
    text, blocks = step_blocks(step, "Done on evidence from Jenkins", event.context.note, readers=Side.PARTNER)
    return [
        Message(
            f"done_on_evidence:{step.pk}:{_stamp(event)}",
            K.PARTNER_DONE,
            text=text,
            blocks=blocks,
            integration=integration,
            step=step,
            channel=channel,
            not_before=working_moment(integration.partner.zone),
        )
    ]


# What each TradingView task of the default roadmap means for the partner once it is finished (the
# seed's "TradingView confirms / notifies the partner via Slack"); another task says only that it is done.
WHAT_IT_MEANS = {
    "slack-jira-onboarding": (
        "TradingView has set up your Slack channel and Jira",
        "business questions here, technical ones in Jira",
    ),
    "autotests-configuration": ("TradingView has configured your autotests", "you can now run them in Jenkins"),
    "sandbox-access": (
        "TradingView has provided your Sandbox access",
        "you can now develop the integration in the Sandbox and complete the test-cases plan",
    ),
    "request-production-urls": (
        "TradingView asks for your production URLs",
        "confirm the staging URL, send the production URL and complete the sheet if your authorisation needs it",
    ),
    "smoke-testing": ("TradingView has run the smoke tests", "the issues found are in Jira"),
    "final-testing": ("TradingView has run the final testing", "the issues found are in Jira"),  # version 1
    "final-testing-1": (
        "TradingView has run the first round of final testing",
        "the issues found are in Jira, labelled final-test-1",
    ),
    "final-testing-2": (
        "TradingView has run the second round of final testing",
        "the issues found are in Jira, labelled final-test-2",
    ),
    "closed-release": (
        "TradingView has released the integration to production, hidden from all users",
        "send the beta testers' usernames",
    ),
}


def what_it_means(done) -> tuple[str, str]:
    """(what TradingView did, what the partner can do now) for the finished task ``done``."""
    return WHAT_IT_MEANS.get(done.code, (f"TradingView finished: {done.title}", ""))


def _handed_over(event) -> list[Message]:
    """TradingView finished a task: tell the partner what is now theirs, by when; when no partner step
    opens yet, what the task means for them and their next step, once per completion."""
    integration, done = event.integration, event.step
    channel = integration.slack_channel_id
    if not channel:
        return []
    now = event.standing if event.standing is not None else standing(integration, steps=list(integration.steps.all()))
    steps = now.steps

    def deadline(step):
        return now.of(step).deadline if now.of(step) else step.due_date

    notices = []
    for step in rules.actionable_steps(steps):
        if step.side != Side.PARTNER or done.code not in step.depends_on:
            continue
        due = deadline(step)
        text, blocks = step_blocks(
            step,
            f"TradingView finished: {done.title}",
            "This step is now yours.",
            due=due,
            readers=Side.PARTNER,
            moved=moved_for_holiday(now, step, due),
        )
        notices.append(
            Message(
                f"handed_over:{step.pk}:{done.pk}:{_stamp(event)}",
                K.HANDED_OVER,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=channel,
                not_before=working_moment(integration.partner.zone),
                due=due,
            )
        )
    if notices or not any(step.position > done.position for step in steps):  # ``is_launch``, from the steps read
        return notices  # the launch has its own message
    return _tradingview_finished(event, steps, deadline, now)


def _tradingview_finished(event, steps, deadline, now) -> list[Message]:
    """No partner step opened: the partner hears what the task means for them and their next step
    (the one waiting on the task, else their first open one), in that step's thread."""
    integration, done = event.integration, event.step
    did, meaning = what_it_means(done)
    open_partner_steps = [s for s in steps if s.side == Side.PARTNER and s.is_open]
    waiting = [s for s in open_partner_steps if done.code in s.depends_on]
    next_step = (waiting or open_partner_steps or [None])[0]
    said = f"{did}: {meaning}" if meaning else did
    if next_step is not None:
        due = deadline(next_step)
        detail = f"— your next step: {next_step.title}" + (f", due {day_text(due, weekday=True)}" if due else "") + "."
        moved = moved_for_holiday(now, next_step, due)
        text, blocks = step_blocks(next_step, said, detail, due=due, buttons=False, readers=Side.PARTNER, moved=moved)
    else:
        text, blocks = integration_blocks(integration, f"{said}.", readers=Side.PARTNER)
    return [
        Message(
            f"tradingview_finished:{done.pk}:{_stamp(event)}",
            K.HANDED_OVER,
            text=text,
            blocks=blocks,
            integration=integration,
            step=next_step,
            channel=integration.slack_channel_id,
            not_before=working_moment(integration.partner.zone),
        )
    ]


def _update_threads(event, threads=None) -> list[Message]:
    """Each first message about the step shows its new status (when it has been sent); ``threads``:
    the step's sent threads, when the caller read them."""
    notices = []
    if threads is None:
        threads = SlackThread.objects.filter(step=event.step).exclude(ts="")
    for thread in threads:
        readers = readers_of(event.integration, thread.channel)
        text, blocks = thread_status_blocks(event.step, due=event.step.due_date, readers=readers)
        notices.append(
            Message(
                f"thread_status:{thread.pk}:{_stamp(event)}",
                K.THREAD_STATUS,
                text=text,
                blocks=blocks,
                integration=event.integration,
                step=event.step,
                channel=thread.channel,
                in_thread=False,
            )
        )
    return notices


def replanned(event) -> list[Message]:
    integration = event.integration
    detail = (
        f"Kick-off moved from {day_text(event.details['from_kickoff'])} to {day_text(event.details['to_kickoff'])}; "
        f"planned launch {day_text(event.details['planned_launch'])}. {event.context.note}"
    ).strip()
    return _to_both_channels(
        integration,
        K.REPLANNED,
        f"replanned:{integration.pk}:{{channel}}:{_stamp(event)}",
        lambda readers: integration_blocks(integration, "The plan moved", detail, readers=readers),
    )


def launched(event) -> list[Message]:
    integration = event.integration
    day = event.details["launched_on"]
    notices = _to_both_channels(
        integration,
        K.LAUNCHED,
        f"launched:{integration.pk}:{{channel}}",
        lambda readers: integration_blocks(
            integration, "Open to all users", f"{integration} launched on {day_text(day)}.", readers=readers
        ),
    )
    emails = [c.email for c in integration.partner.contacts.all() if c.email]
    if emails:
        body = (
            f"{integration} is live on TradingView: open to all users since {day_text(day)}\n\n"
            f"Hello,\n\n{integration} is now open to all TradingView users (launched on {day_text(day)}).\n"
            "Thank you for the work that got it here.\n\nTradingView integrations team"
        )
        notices.append(
            Message(
                f"launch_email:{integration.pk}",
                K.LAUNCH_EMAIL,
                text=body,
                integration=integration,
                emails=emails,
                not_before=timezone.now(),
            )
        )
    return notices


def _both_channels(integration) -> list[tuple]:
    """The partner's channel and the internal one (those configured), each with its readers and their time zone."""
    return [
        (channel, readers, zone)
        for channel, readers, zone in (
            (integration.slack_channel_id, Side.PARTNER, integration.partner.zone),
            (settings.SLACK_INTERNAL_CHANNEL, Side.TRADINGVIEW, tradingview_zone()),
        )
        if channel
    ]


def _to_both_channels(integration, kind, reason: str, build) -> list[Message]:
    """One message to each of ``_both_channels``, unique per channel (``reason`` has a ``{channel}`` slot);
    ``build(readers)`` says it, linking to the readers' own page."""
    notices = []
    for channel, readers, zone in _both_channels(integration):
        text, blocks = build(readers)
        notices.append(
            Message(
                reason.format(channel=channel),
                kind,
                text=text,
                blocks=blocks,
                integration=integration,
                channel=channel,
                not_before=working_moment(zone),
            )
        )
    return notices


def partner_handover(event) -> list[Message]:
    """The partner handed something over: TradingView hears what, and how the URL check went,
    in the thread of the step that waits for it."""
    integration, handover = event.integration, event.details["handover"]
    if not settings.SLACK_INTERNAL_CHANNEL:
        return []
    step = next((s for s in integration.steps.all() if handover and handover in s.handovers), None)
    passed = event.details["passed"]
    headline = "The partner handed over" + {True: " (check passed)", False: " (check failed)"}.get(passed, "")
    detail = f"{event.details['summary']} ({event.context})"
    if step is not None:
        text, blocks = step_blocks(step, headline, detail, buttons=False, readers=Side.TRADINGVIEW)
    else:
        text, blocks = integration_blocks(integration, headline, detail, readers=Side.TRADINGVIEW)
    return [
        Message(
            f"partner_handover:{integration.pk}:{handover or 'staging'}:{_stamp(event)}",
            K.PARTNER_HANDOVER,
            text=text,
            blocks=blocks,
            integration=integration,
            step=step,
            channel=settings.SLACK_INTERNAL_CHANNEL,
            not_before=working_moment(tradingview_zone()),
        )
    ]


JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
JIRA_SAYS = {"created": "created in Jira", "commented": "commented in Jira"}


def jira_news(event) -> list[Message]:
    """An issue of the partner's project created, moved or commented: a short line in the step's thread in
    the partner's channel (the integration's page when on no step), once per Jira event; never what was
    written. Off when the integration switched it off."""
    integration, details = event.integration, event.details
    if not integration.slack_channel_id or not integration.jira_news_in_slack:
        return []
    key = details["key"]
    jira = (settings.JIRA_URL or "").strip().rstrip("/")
    url = f"{jira}/browse/{key}" if jira.startswith("https://") and JIRA_KEY.fullmatch(key) else None
    said = JIRA_SAYS.get(details["what"]) or mrkdwn("moved to {} in Jira", details["status"])
    text = mrkdwn("{} {}", link(url, key), said)
    news_key = details["news_key"]
    if len(news_key) > 150:
        news_key = hashlib.sha256(news_key.encode()).hexdigest()
    return [
        Message(
            f"jira_news:{integration.pk}:{news_key}",
            K.JIRA_NEWS,
            text=text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            integration=integration,
            step=event.step,
            channel=integration.slack_channel_id,
            not_before=working_moment(integration.partner.zone),
        )
    ]


COMMENT_QUOTED = 500  # the characters of a comment a mention quotes; the page has the rest


def commented(event) -> list[Message]:
    """A comment mentions TradingView's people: each hears it once, in the step's thread of the
    partner's channel for a public comment, of the internal channel for an internal one (never
    the partner's). The body is the author's text: escaped, and quoted only in part."""
    comment, integration = event.details["comment"], event.integration
    internal = comment.internal
    channel = settings.SLACK_INTERNAL_CHANNEL if internal else integration.slack_channel_id
    if not channel or (internal and channel == integration.slack_channel_id):
        return []
    readers = Side.TRADINGVIEW if internal else Side.PARTNER
    body = comment.body if len(comment.body) <= COMMENT_QUOTED else comment.body[:COMMENT_QUOTED] + "…"
    said = "commented (internal)" if internal else "commented"
    notices = []
    for person in event.details["mentioned"]:
        headline = mrkdwn("{} {} {}", mention(person), comment.who, said)
        text, blocks = step_blocks(event.step, headline, body, buttons=False, readers=readers)
        notices.append(
            Message(
                f"comment_mention:{comment.pk}:{person.pk}",
                K.COMMENT_MENTION,
                text=text,
                blocks=blocks,
                integration=integration,
                step=event.step,
                channel=channel,
            )
        )
    return notices


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def welcome(event) -> list[Message]:
    """Kick-off: the partner's channel hears, once, what the roadmap is, its first steps and their due
    dates (with the holiday that moved one, as every reminder says it), who its TradingView PM is and where its
    stage page is."""
    integration = event.integration
    channel = integration.slack_channel_id
    if not channel:
        return []
    steps = sorted(integration.steps.all(), key=lambda s: s.position)
    now = standing(integration, steps=steps)
    first = rules.actionable_steps(steps)
    opened = {s.code for s in first}
    # The partner's first steps: those the first tasks hand over (or open from the start).
    theirs = [s for s in steps if s.side == Side.PARTNER and s.is_open and opened & set(s.depends_on)]
    launch = steps[-1] if steps else None
    weeks = (launch.due_week_last or launch.due_week) if launch is not None else None
    numbered = {s.number for s in steps if s.number}
    roadmap = mrkdwn(
        "{} is kicked off on {}: the roadmap ({}) runs {} steps over about {} weeks, each a TradingView task "
        "and a task of yours, launch planned for {}.",
        integration,
        day_text(event.details["kickoff_on"], weekday=True),
        integration.template.name,
        len(numbered),
        weeks,
        day_text(event.details["planned_launch"], weekday=True),
    )
    lines = [roadmap, Mrkdwn("First steps:")]
    for step in first + theirs:
        side = "Yours" if step.side == Side.PARTNER else "TradingView"
        moved = moved_for_holiday(now, step, step.due_date)
        due = day_text(step.due_date, weekday=True) + (f" ({moved})" if moved else "")
        lines.append(mrkdwn("• {}: {}, due {}", side, step.title, due))
    if integration.tv_pm is not None:
        lines.append(mrkdwn("Your TradingView PM: {}", mention(integration.tv_pm)))
    lines.append(mrkdwn("Where you stand, any time: {}", link(page_url(integration, Side.PARTNER), "your stage page")))
    text, blocks = integration_blocks(
        integration, "Welcome to your TradingView integration", Mrkdwn("\n".join(lines)), readers=Side.PARTNER
    )
    return [_in_partners_morning(integration, f"welcome:{integration.pk}", K.WELCOME, text, blocks)]


def launch_agreed(event) -> list[Message]:
    """A launch date agreed (or changed): the partner's channel hears the date and who agreed it, once per
    agreement (its history row's id)."""
    integration, details = event.integration, event.details
    channel = integration.slack_channel_id
    if not channel:
        return []
    headline = f"Launch date agreed: {day_text(details['agreed_on'], weekday=True)}"
    if details["was"]:
        headline += f" (was {day_text(details['was'], weekday=True)})"
    recorder = _person(event.context.by)
    detail = mrkdwn(
        "Agreed by {}{}. {} opens to all TradingView users that day.",
        details["agreed_by"],
        f", recorded by {recorder}" if recorder else "",
        integration,
    )
    text, blocks = integration_blocks(integration, headline, detail, readers=Side.PARTNER)
    return [
        _in_partners_morning(
            integration, f"launch_agreed:{integration.pk}:{details['record']}", K.LAUNCH_AGREED, text, blocks
        )
    ]


def _in_partners_morning(integration, reason: str, kind: str, text: str, blocks) -> Message:
    """A message to the partner's channel that is not urgent: delivered in the partner's working morning."""
    return Message(
        reason,
        kind,
        text=text,
        blocks=blocks,
        integration=integration,
        channel=integration.slack_channel_id,
        not_before=working_moment(integration.partner.zone, calendar=integration.partner.calendar),
    )


HANDLERS = {
    events.COMMENTED: commented,
    events.JIRA_NEWS: jira_news,
    events.STEP_CHANGED: step_changed,
    events.REPLANNED: replanned,
    events.LAUNCHED: launched,
    events.KICKED_OFF: welcome,
    events.LAUNCH_AGREED: launch_agreed,
    events.PARTNER_HANDOVER: partner_handover,
}
