"""What the messages say: Block Kit with a plain-text fallback, a link to the page, and buttons.

Slack reads ``<...>`` in a message as markup: ``<!channel>`` notifies everyone in the channel and
``<https://evil|TradingView SSO>`` shows a link under any label. Much of what the messages say is
written by people or servers outside TradingView: notes, hand-over URLs and what the partner's
server answered to their check, Jira's names, partner and integration names. So every piece of
text is escaped here (``&``, ``<`` and ``>``, Slack's documented escaping), in the blocks and in the
fallback ``text`` alike, unless it is ``Mrkdwn``: markup this module built from what it trusts (bold
and line breaks, links to ``SITE_URL``, mentions of Slack users linked in the admin). Builders take
plain ``str`` for what they cannot vouch for, and say what is markup by passing ``Mrkdwn``.

Links lead where the channel's readers may go: a partner's channel to its stage page, TradingView's
channel and the PM's digest to the dashboard's integration page. Without ``SITE_URL`` there is no
link (Slack refuses a button whose URL is not absolute).
"""

import functools
import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from integrations.read_models.headline import step_moved_for_holiday
from integrations.text import day_text
from roadmap.models import Side

MARK_DONE = "step:complete"  # the action_id of the "Mark done" button; its value is the step's id
OPEN_STEP = "step:open"  # the "Open" link button: Slack still posts the click; nothing to do
SECTION_LIMIT = 3000  # Slack's limit on a section's text
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


class Mrkdwn(str):
    """Slack markup built here from trusted pieces: sent as it is (as Django's SafeString is to HTML)."""


def escape(text) -> Mrkdwn:
    """``text`` as Slack shows it literally; ``Mrkdwn`` is left as it is."""
    if isinstance(text, Mrkdwn):
        return text
    text = str(text)
    if "&" not in text and "<" not in text and ">" not in text:  # most text: nothing to escape
        return Mrkdwn(text)
    return Mrkdwn(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def mrkdwn(template: str, *parts) -> Mrkdwn:
    """``template`` (markup written here) with each of ``parts`` escaped, as ``format_html`` does for HTML."""
    return Mrkdwn(template.format(*(escape(part) for part in parts)))


def joined(separator: str, parts) -> Mrkdwn:
    return Mrkdwn(separator.join(escape(part) for part in parts))


def mention(user) -> Mrkdwn:
    """A mention of ``user`` when linked to a Slack user (``SlackUser``), else their name as text."""
    account = getattr(user, "slack_account", None)
    if account is not None and SLACK_USER_ID.fullmatch(account.slack_user_id or ""):
        return Mrkdwn(f"<@{account.slack_user_id}>")
    return escape(user.get_full_name() or user.get_username())


def link(url: str | None, label) -> Mrkdwn:
    """``label`` linking to ``url`` (one of ours); the label alone when there is no URL."""
    return mrkdwn("<{}|{}>", url, label) if url else escape(label)


# --- where links lead ---------------------------------------------------------------------------


def readers_of(integration, channel: str) -> str:
    """Who reads ``channel``: TradingView in its internal channel, otherwise the partner (the safer
    guess: a partner's page shows nothing a partner may not see, and staff may open it too)."""
    internal = settings.SLACK_INTERNAL_CHANNEL
    if channel and channel == internal and channel != integration.slack_channel_id:
        return Side.TRADINGVIEW
    return Side.PARTNER


def page_url(integration, readers: str, step=None) -> str | None:
    """The page ``readers`` open about ``integration`` (at ``step`` on the dashboard); None without ``SITE_URL``."""
    return page_urls(readers)(integration.pk, step.pk if step is not None else None)


def page_urls(readers: str):
    """``page_url`` by ids, for many links to pages ``readers`` open: the site and the path around the key are
    looked up once (settings and the URL configuration are thread-local lookups), not once per link.

    Returns ``url(integration_id, step_id=None) -> str | None``."""
    site = (settings.SITE_URL or "").strip().rstrip("/")
    if not site:
        return lambda integration_id, step_id=None: None
    if readers == Side.PARTNER:
        before, after = _around_key("stage-page")
        return lambda integration_id, step_id=None: f"{site}{before}{int(integration_id)}{after}"
    before, after = _around_key("integration-page")

    def url(integration_id, step_id=None):
        anchor = f"#step-{step_id}" if step_id is not None else ""
        return f"{site}{before}{int(integration_id)}{after}{anchor}"

    return url


# A key no real path holds: reversed in its place, then cut out, it leaves the path around the key.
_ANY_KEY = 918273645546372819


def _around_key(name: str) -> tuple[str, str]:
    """``reverse(name, args=[pk])`` for a page taking one integer, as the path before and after the key: a
    sweep links thousands of messages to the same two pages, and ``reverse`` costs as much as wording the
    message. Worked out once per name, script prefix and URL configuration."""
    return _path_around_key(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=64)
def _path_around_key(name: str, prefix: str, urlconf: str) -> tuple[str, str]:
    before, _, after = reverse(name, urlconf=urlconf, args=[_ANY_KEY]).partition(str(_ANY_KEY))
    return before, after


# --- the messages ---------------------------------------------------------------------------------


def _section(text: Mrkdwn) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def _open_button(action_id: str, url: str | None) -> list[dict]:
    if not url:
        return []
    return [{"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": "Open"}, "url": url}]


def _headline(headline, detail) -> Mrkdwn:
    return mrkdwn("*{}*\n{}", headline, detail) if detail else mrkdwn("*{}*", headline)


def _said(headline, detail) -> Mrkdwn:
    """The headline and detail on one line, for the text a notification shows: the blocks set the
    headline apart in bold on its own line; here a full stop does ("Due today. What is left is yours")."""
    if not detail:
        return escape(headline)
    ends = str(headline).rstrip()[-1:] in (".", "!", "?", ":", ";", "…")
    first = str(detail).lstrip()[:1]
    if ends or first in ("—", "(", ","):  # "— your next step: ..." goes on with the sentence
        return mrkdwn("{} {}", headline, detail)
    # Detail that does not begin a sentence (who did it: "alice via web at ...") is set apart by a dash.
    return mrkdwn("{} — {}" if first.islower() else "{}. {}", headline, detail)


def step_blocks(
    step, headline, detail="", due=None, buttons: bool = True, *, readers: str, moved: str = "", url_of=None
) -> tuple[Mrkdwn, list[dict]]:
    """A message about ``step`` to ``readers`` (a side): what happened, the step and its deadline,
    "Mark done" and "Open". ``headline`` and ``detail`` are text unless given as ``Mrkdwn``. ``moved``:
    why the deadline is not the plan's day ("moved from 1 Jan: New Year's Day in Germany",
    ``read_models.headline.moved_for_holiday``, as the pages say it), shown beside it. ``url_of``:
    ``page_urls(readers)``, when the caller words many messages (a sweep looks it up once)."""
    due_text = f" · due {day_text(due, weekday=True)}" if due else ""
    if due and moved:
        due_text += f" ({moved})"
    said = _said(headline, detail)
    text = mrkdwn("{} ({}: {}{})", said, step.integration, step, due_text)
    blocks = [
        _section(_headline(headline, detail)),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": mrkdwn("{} · {}{} · {}", step.integration, step, due_text, step.get_status_display()),
                }
            ],
        },
    ]
    elements = []
    if buttons and step.is_open:
        elements.append(
            {
                "type": "button",
                "action_id": MARK_DONE,
                "text": {"type": "plain_text", "text": "Mark done"},
                "style": "primary",
                "value": str(step.pk),
            }
        )
    url_of = url_of or page_urls(readers)
    elements += _open_button(OPEN_STEP, url_of(step.integration.pk, step.pk))
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return text, blocks


def integration_blocks(integration, headline, detail="", *, readers: str) -> tuple[Mrkdwn, list[dict]]:
    """A message about the whole integration to ``readers``, with "Open"."""
    said = _said(headline, detail)
    text = mrkdwn("{} ({})", said, integration)
    blocks = [_section(_headline(headline, detail))]
    button = _open_button("integration:open", page_url(integration, readers))
    if button:
        blocks.append({"type": "actions", "elements": button})
    return text, blocks


def thread_status_blocks(step, due=None, *, readers: str) -> tuple[Mrkdwn, list[dict]]:
    """The first message of a step's thread, as it should read now (updated in place), with the
    holiday that moved its deadline as the messages in the thread say it."""
    status = step.get_status_display()
    moved = step_moved_for_holiday(step, due)
    return step_blocks(step, f"{step} — {status}", due=due, buttons=step.is_open, readers=readers, moved=moved)
