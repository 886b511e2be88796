"""Who of a partner's team may sign in: invitations and their revocation.

A PM (or, when the PM allows it, someone of the partner's own team) invites a person by name and
e-mail: a login is made for them, linked to the partner (``PartnerUser``), with no password, and
a magic link is issued that the caller e-mails and, to a PM, shows once. Revoking deactivates the
login and revokes its live links, so every session it opened ends at its next request.

The magic link's model belongs to the stage app; it is read through the app registry, so the core
does not import a surface.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from integrations.models import Partner, PartnerUser
from integrations.text import clean_text
from roadmap.refusals import InvalidInput, NotAllowed

NAME_MAX = 150  # Django's first_name and last_name hold 150 characters each


def magic_link_model():
    return apps.get_model("integrations", "MagicLink")


@dataclass
class Invitation:
    account: PartnerUser
    link: object  # a MagicLink
    raw_token: str  # the link's secret: exists only now, for the e-mail and the PM's one look
    reactivated: bool = False


def may_invite(user, partner: Partner) -> bool:
    """Staff may invite to any partner; a partner's user to its own partner, when the PM allowed it."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    account = getattr(user, "partner_account", None)
    return account is not None and account.partner_id == partner.pk and partner.team_may_invite


def _clean_name(name) -> str:
    name = clean_text(name if isinstance(name, str) else "")
    if not name:
        raise InvalidInput("Give the person's name.")
    if "\n" in name or len(name) > NAME_MAX:
        raise InvalidInput(f"Give the person's name on one line, at most {NAME_MAX} characters.")
    return name


def _clean_email(email) -> str:
    email = (email if isinstance(email, str) else "").strip()
    if not email:
        raise InvalidInput("Give the person's e-mail address.")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(f"{email!r} is not an e-mail address; give one such as dev@broker.example.com.") from None
    if len(email) > 150:
        raise InvalidInput("That e-mail address is too long (at most 150 characters).")
    return email


@transaction.atomic
def invite(partner: Partner, name, email, by, now=None) -> Invitation:
    """Give ``name`` <``email``> a login of ``partner``'s team and a magic link; nothing is written if refused.

    Refused: a bad name or e-mail; an e-mail that is already a TradingView staff login, or a login
    of someone else (another partner, or a person outside any partner). Inviting a person of this
    partner whose access was revoked gives it back.
    """
    if not may_invite(by, partner):
        raise NotAllowed(f"You may not invite people to {partner}'s team; ask your TradingView PM.")
    name = _clean_name(name)
    email = _clean_email(email)
    now = now or timezone.now()
    users = get_user_model().objects.select_for_update(of=("self",))
    existing = users.filter(Q(email__iexact=email) | Q(username__iexact=email)).select_related("partner_account")
    existing = list(existing[:2])
    reactivated = False
    if existing:
        user = existing[0]
        account = getattr(user, "partner_account", None)
        if user.is_staff:
            raise InvalidInput(f"{email} is a TradingView staff login; a partner's team cannot use it.")
        if len(existing) > 1 or account is None or account.partner_id != partner.pk:
            raise InvalidInput(f"{email} already has a login of someone else; use another address.")
        if user.is_active:
            raise InvalidInput(
                f"{email} is already on {partner}'s team; send them a new magic link from their row instead."
            )
        user.is_active = True
        reactivated = True
    else:
        user = get_user_model()(username=email.lower())
        user.set_unusable_password()
        account = None
    first, _, last = name.partition(" ")
    user.first_name, user.last_name, user.email = first[:NAME_MAX], last[:NAME_MAX], email
    user.save()
    if account is None:
        account = PartnerUser.objects.create(user=user, partner=partner, invited_by=by, invited_at=now)
    else:
        account.invited_by, account.invited_at = by, now
        account.save(update_fields=["invited_by", "invited_at"])
    link, raw = issue_link(user, email, by, now)
    return Invitation(account=account, link=link, raw_token=raw, reactivated=reactivated)


def issue_link(user, sent_to: str, by, now=None):
    """A new magic link for ``user``, lasting ``MAGIC_LINK_DAYS``; returns it with its raw token."""
    now = now or timezone.now()
    return magic_link_model().issue(
        user=user, sent_to=sent_to, created_by=by, expires_at=now + timedelta(days=settings.MAGIC_LINK_DAYS)
    )


def email_invitation(invitation: Invitation, url: str, by):
    """E-mail the invitation's link to the person; raises what the mail backend raises."""
    user = invitation.account.user
    partner = invitation.account.partner
    inviter = by.get_full_name() or by.get_username()
    until = timezone.localtime(invitation.link.expires_at, partner.zone)
    body = (
        f"Hello {user.get_full_name() or user.get_username()},\n\n"
        f"{inviter} invited you to {partner}'s page of the TradingView integration roadmap: where your "
        "integration stands, what you owe next and by when, and where you hand over your URLs and beta testers.\n\n"
        f"{url}\n\n"
        f"The link signs you in once, in one browser, and works until {until:%d %B %Y, %H:%M} ({partner.time_zone}). "
        "Keep it to yourself: anyone with it can sign in as you. Ask your TradingView PM for a new one when it "
        "stops working.\n\nTradingView integrations team"
    )
    send_mail(
        f"You are invited to {partner}'s TradingView integration page",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        fail_silently=False,
    )


@transaction.atomic
def revoke_access(account: PartnerUser, now=None) -> int:
    """End ``account``'s access: its login is deactivated and its live links revoked (their sessions
    end at the next request). Returns the number of links revoked."""
    now = now or timezone.now()
    user = account.user
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return (
        magic_link_model()
        .objects.filter(user=user, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .update(revoked_at=now)
    )


def people_with_access(partner: Partner, now=None):
    """The partner's logins, active first, with how many live magic links each has (``live_links``)."""
    now = now or timezone.now()
    live = Q(user__magic_links__revoked_at__isnull=True) & (
        Q(user__magic_links__expires_at__isnull=True) | Q(user__magic_links__expires_at__gt=now)
    )
    return (
        PartnerUser.objects.filter(partner=partner)
        .select_related("user", "invited_by")
        .annotate(live_links=Count("user__magic_links", filter=live))
        .order_by("-user__is_active", "user__first_name", "user__last_name", "user__username")
    )
