"""A magic link: e-mailed to the partner user it signs in, and used once.

The raw link exists only while it is being issued (the database keeps its hash), so it is sent
at once, in the PM's request; a failure is reported to the PM, who still sees the link once.
A link signs in once: the first sign-in marks it used (``last_used_at``), and a used link opens
nothing more; the session it opened lives until the link expires or is revoked.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from integrations.stage.models import MagicLink


def claim(link: MagicLink, now=None) -> bool:
    """Mark ``link`` used; True only for the one request that used it first (a conditional update,
    so two presses of the button at once sign in only once)."""
    now = now or timezone.now()
    claimed = MagicLink.objects.filter(pk=link.pk, last_used_at__isnull=True).update(last_used_at=now)
    if claimed:
        link.last_used_at = now
    return bool(claimed)


def email_link(link: MagicLink, url: str):
    """Send ``url`` (the link's raw address) to ``link.sent_to``; raises what the mail backend raises."""
    partner = link.user.partner_account.partner
    until = timezone.localtime(link.expires_at, partner.zone) if link.expires_at else None
    body = (
        f"Hello {link.user.get_full_name() or link.user.get_username()},\n\n"
        f"This link opens {partner}'s page of the TradingView integration roadmap: where you stand, what "
        "you owe next and by when, and where you hand over your URLs and beta testers.\n\n"
        f"{url}\n\n"
        + "It signs you in once, in one browser"
        + (f", and works until {until:%d %B %Y, %H:%M} ({partner.time_zone}), when your session ends" if until else "")
        + ". Keep it to yourself: anyone with it can sign in as you. Ask your TradingView PM for a new one "
        "when it stops working.\n\nTradingView integrations team"
    )
    send_mail(
        f"Your sign-in link to {partner}'s TradingView integration page",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [link.sent_to],
        fail_silently=False,
    )
