"""Comments on a step: who may write one, what it may say, and whom it mentions.

``post_comment`` is the one way a comment is written (the integration page, the stage page, the
API): TradingView's staff on any step, internal or not; a partner's user on its own integrations'
steps, never internal. The body is plain text, cleaned and limited to ``COMMENT_MAX`` characters;
a refusal is a ``roadmap.refusals`` error with its code. ``@username`` mentions of TradingView's
people (a staff username, the integration's PM among them) are announced with the comment
(``events.COMMENTED``), so ``notifications`` tells each of them once, in the same transaction.
Who reads which comment is ``Comment.objects.seen_by``.
"""

import re
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from integrations import events
from integrations.context import ChangeContext
from integrations.models import ChangeSource, Comment
from integrations.text import clean_text, too_long
from integrations.visibility import partner_of, sees_everything
from roadmap.refusals import InvalidInput, NotAllowed

COMMENT_MAX = 4000
MENTIONS_MAX = 10  # the people one comment may call on; more are read as text
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.+-]{1,150})")


def post_comment(step, user, body, internal: bool = False, source: str = ChangeSource.WEB) -> Comment:
    """Write ``user``'s comment on ``step`` and tell the people it mentions; refused (4xx) when
    ``user`` may not comment there, the body is empty or too long, or a partner marks it internal."""
    refusal = _author_refusal(step, user, internal)
    if refusal is not None:
        raise refusal
    if not isinstance(body, str):
        raise InvalidInput("A comment is text.")
    text = clean_text(body)
    if not text:
        raise InvalidInput("Write the comment before posting it.")
    if too_long(text, COMMENT_MAX):
        raise InvalidInput(f"The comment is too long: {too_long(text, COMMENT_MAX).lower()}")
    with transaction.atomic():
        comment = Comment.objects.create(step=step, author=user, body=text, internal=bool(internal))
        events.announce(
            events.COMMENTED,
            step.integration,
            ChangeContext(source=source, by=user),
            step=step,
            comment=comment,
            mentioned=mentioned_people(step.integration, text),
        )
    return comment


def _author_refusal(step, user, internal):
    if user is None or not user.is_authenticated or not user.is_active:
        return NotAllowed("Log in to comment on a step.")
    if sees_everything(user):
        return None
    partner = partner_of(user)
    if partner is None or partner.pk != step.integration.partner_id:
        return NotAllowed(f"{user.get_username()} does not work on {step.integration}.")
    if internal:
        return NotAllowed("Only TradingView writes internal comments.")
    return None


def mentioned_people(integration, text: str) -> list:
    """TradingView's people ``text`` calls on by ``@username`` (a staff username, the integration's
    PM among them), each once, in the order first mentioned."""
    names = []
    for match in MENTION.finditer(text):
        name = match.group(1).rstrip(".-").lower()
        if name and name not in names:
            names.append(name)
    names = names[:MENTIONS_MAX]
    if not names:
        return []
    wanted = Q()
    for name in names:
        wanted |= Q(username__iexact=name)
    people = get_user_model().objects.filter(wanted, is_active=True, is_staff=True)
    by_name = {person.get_username().lower(): person for person in people}
    return [by_name[name] for name in names if name in by_name]


def comments_seen(steps, user, as_partner: bool = False):
    """The comments ``user`` may read on ``steps``, oldest first, as a query (the API pages it);
    ``as_partner``: only what the partner reads, whoever looks (the stage page, which staff preview)."""
    rows = Comment.objects.seen_by(user).filter(step__in=[s.pk for s in steps]).select_related("author")
    if as_partner:
        rows = rows.filter(internal=False)
    return rows.order_by("created_at", "id")


def comments_by_step(steps, user, as_partner: bool = False) -> dict[int, list[Comment]]:
    """``comments_seen`` by step id: one query."""
    found = defaultdict(list)
    for comment in comments_seen(steps, user, as_partner):
        found[comment.step_id].append(comment)
    return found
