"""One message per channel, reason and day for what TradingView's channel hears about many steps.

Escalations (a partner's step late past the policy; a TradingView task late past it, to the PM's lead) and TradingView-side reminders (its task due
today, or late) all go to one channel. At 10,000 running integrations a sweep wrote 10,000 of them
into it: days of backlog at Slack's one message a second. So the sweep writes each of them as a row
"digested" (``gather``): its reason is taken, so it stays once-only (a step escalated today is not
escalated again tomorrow), and the row keeps what it would have said, but it is never sent itself.
At the sweep's end ``write_digests`` lists them, per channel and kind, in one message that links
each step to its page, in parts of ``STEPS_PER_MESSAGE`` steps (Slack's 50 blocks and 3,000
characters per section). A step alone in its group goes out as its own message, as before.
Partner channels keep their per-step reminders: their kinds are not gathered.

The lines reuse what each step's message says (its headline, built and escaped by
``notifications.messages``); names are escaped again here, as link labels.
"""

import re
from collections import defaultdict
from dataclasses import replace
from typing import NamedTuple

from django.db import transaction

from integrations.batches import write_changes
from integrations.models import Partner
from notifications.messages import SECTION_LIMIT, Mrkdwn, joined, link, mrkdwn, page_urls
from notifications.models import OutboxMessage
from notifications.outbox import Message, write
from roadmap.models import Side, step_label

K = OutboxMessage.Kind
GATHERED_KINDS = frozenset({K.ESCALATION, K.LEAD_ESCALATION, K.TRADINGVIEW_DUE, K.TRADINGVIEW_LATE})
STEPS_PER_MESSAGE = 100  # about 15,000 characters: a few sections, far below 50 blocks
HEADLINES = {
    K.ESCALATION: "Escalation: {} partner steps are late; time to call the partners",
    K.LEAD_ESCALATION: "Escalation: {} TradingView tasks are late; time for the lead to step in",
    K.TRADINGVIEW_DUE: "TradingView: {} tasks due today",
    K.TRADINGVIEW_LATE: "TradingView: {} tasks late",
}
MENTION = re.compile(r"<@[UW][A-Z0-9]{2,20}>")
UPDATE_BATCH = 500
# What a digest reads of a row listed in it (``_digest``, ``_line``), its integration's and step's names:
# plain rows, not model instances (a Monday lists 10,000 of them, just written by the sweep).
LISTED_COLUMNS = (
    "id",
    "channel",
    "kind",
    "text",
    "blocks",
    "not_before",
    "integration_id",
    "integration__name",
    "integration__partner",
    "step_id",
    "step__number",
    "step__side",
    "step__title",
    "step__position",
)


def gather(messages) -> list[Message]:
    """``messages`` with the kinds gathered into digests written as "digested" rows, to be listed later."""
    return [
        replace(message, state=OutboxMessage.State.DIGESTED) if message.kind in GATHERED_KINDS else message
        for message in messages
    ]


def write_digests() -> int:
    """List every digested row not yet in a digest: one message per channel and kind (in parts).

    Returns the change in messages to send: the digests written less the step rows they list (the
    sweep counted those as messages when it wrote them). A fixed number of queries, plus one per
    ``UPDATE_BATCH`` rows listed (the rows of a part share their digest: one ``WHEN`` per part).
    """
    waiting = list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.DIGESTED, digest__isnull=True)
        # A line names the integration and the step and repeats the row's headline: nothing else is read.
        .values(*LISTED_COLUMNS)
        .order_by("integration__name", "step__position", "id")
    )
    groups = defaultdict(list)
    for row in waiting:
        groups[(row["channel"], row["kind"])].append(row)
    alone = [rows[0]["id"] for rows in groups.values() if len(rows) == 1]
    parts = {}  # reason of a digest -> the rows it lists
    for (channel, kind), rows in groups.items():
        if len(rows) > 1:
            # Of the whole group, worked out once: each of its parts names them.
            first, earliest = min(row["id"] for row in rows), min(row["not_before"] for row in rows)
            for number, start in enumerate(range(0, len(rows), STEPS_PER_MESSAGE), start=1):
                reason = _reason(channel, kind, rows, first, number)
                parts[reason] = (reason, channel, kind, rows, start, number, earliest)
    with transaction.atomic():
        # A step alone needs no digest: its own message goes, with its buttons, in its thread.
        OutboxMessage.objects.filter(pk__in=alone).update(state=OutboxMessage.State.PENDING)
        lines = _Lines(waiting)
        written = write(_digest(*part, lines) for part in parts.values())
        digests = dict(OutboxMessage.objects.filter(reason_key__in=list(parts)).values_list("reason_key", "id"))
        listed = {}
        for reason, (_, _, _, rows, start, _, _) in parts.items():
            for row in rows[start : start + STEPS_PER_MESSAGE]:
                listed[row["id"]] = {"digest": digests.get(reason)}
        pks = list(listed)
        for first in range(0, len(pks), UPDATE_BATCH):
            write_changes(OutboxMessage, {pk: listed[pk] for pk in pks[first : first + UPDATE_BATCH]})
    return written - len(listed)


def _reason(channel: str, kind: str, rows: list[dict], first: int, number: int) -> str:
    """The reason of part ``number`` of the digest of ``rows`` (``first``: their lowest id)."""
    day = rows[0]["not_before"].date()
    return f"channel-digest:{kind}:{channel}:{day:%Y-%m-%d}:{first}:{number}"


def _digest(
    reason: str, channel: str, kind: str, rows: list[dict], start: int, number: int, earliest, lines: "_Lines"
) -> Message:
    shown = rows[start : start + STEPS_PER_MESSAGE]
    parts = -(-len(rows) // STEPS_PER_MESSAGE)
    headline = HEADLINES[kind].format(len(rows))
    if parts > 1:
        headline += f" (part {number} of {parts})"
    mentions = sorted({m for row in shown for m in MENTION.findall(row["text"])})
    header = mrkdwn("*{}*", headline)
    if mentions:
        header = mrkdwn("{}\n{}", header, Mrkdwn(" ".join(mentions)))
    lines = [lines.line(row) for row in shown]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": header}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in _sections(lines)]
    return Message(
        reason,
        K.CHANNEL_DIGEST,
        text=mrkdwn("{}\n{}", header, joined("\n", lines)),
        blocks=blocks,
        channel=channel,
        not_before=earliest,
        in_thread=False,
    )


def of_lines(rows: list[dict]) -> tuple[str, list[dict]]:
    """(text, blocks) of a digest listing only ``rows`` (``LISTED_COLUMNS``, one channel and kind): a digest
    posted without the lines that are no longer true (``still_true``). Its headline counts the lines it
    lists (a part of a long digest so rewritten no longer says which part it is)."""
    kind = rows[0]["kind"]
    message = _digest("", rows[0]["channel"], kind, rows, 0, 1, rows[0]["not_before"], _Lines(rows))
    return message.text, list(message.blocks)


class _StepNames(NamedTuple):
    """What ``step_label`` reads of a step."""

    number: int | None
    side: str
    title: str


class _Lines:
    """The lines of the rows listed (``LISTED_COLUMNS``): the dashboard's links worked out once for all."""

    def __init__(self, rows: list[dict]):
        self.url = page_urls(Side.TRADINGVIEW)
        # An integration without a name is called after its partner (``Integration.__str__``): read those few.
        unnamed = {row["integration__partner"] for row in rows if not row["integration__name"]}
        self.partners = dict(Partner.objects.filter(pk__in=unnamed).values_list("pk", "name")) if unnamed else {}

    def line(self, row: dict) -> Mrkdwn:
        """A step's line: its integration and step, linked to the step on the dashboard, and what its message said."""
        integration = row["integration__name"] or self.partners.get(row["integration__partner"], "")
        step_id = row["step_id"]
        if step_id:
            names = _StepNames(row["step__number"], row["step__side"], row["step__title"])
            label = f"{integration}: {step_label(names)}"
        else:
            label = integration
        target = link(self.url(row["integration_id"], step_id), label)
        return mrkdwn("• {} — {}", target, _headline_of(row))


def _headline_of(row: dict) -> Mrkdwn:
    """The bold first line of the step's own message (``messages.step_blocks``: markup built and escaped there)."""
    for block in row["blocks"] or []:
        text = (block.get("text") or {}).get("text") or ""
        if block.get("type") == "section" and text.startswith("*"):
            return Mrkdwn(text.split("\n", 1)[0].strip("*"))
    return Mrkdwn(OutboxMessage.Kind(row["kind"]).label)


def _sections(lines: list[Mrkdwn]) -> list[Mrkdwn]:
    """The lines in sections under Slack's limit of characters per section."""
    sections, current = [], []
    for line in lines:
        if current and len("\n".join([*current, line])) > SECTION_LIMIT:
            sections.append(Mrkdwn("\n".join(current)))
            current = []
        current.append(line[:SECTION_LIMIT])
    if current:
        sections.append(Mrkdwn("\n".join(current)))
    return sections
