"""Bringing a partner's people in, from the integration page: invite by name and e-mail, see who has
access and when they last came, revoke it, and let the partner's team invite colleagues.

The rules are ``integrations.partner_access``'s; this module parses, calls it and tells the PM.
A refusal re-renders the integration page (400) with what was typed and the reason.
"""

import smtplib

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from integrations import partner_access
from integrations.dashboard.access import staff_required
from integrations.dashboard.integration_page import _context, _load, _page_url
from integrations.forms import InviteForm
from integrations.models import PartnerUser
from integrations.text import moment_text
from roadmap.refusals import Refusal


def link_url(request, raw: str) -> str:
    return request.build_absolute_uri(reverse("stage-magic-link", args=[raw]))


def send_invitation(request, invitation, shown_to_inviter: bool):
    """E-mail the invitation and tell the inviter; a PM sees the link once, whatever the e-mail did."""
    url = link_url(request, invitation.raw_token)
    user = invitation.account.user
    who = f"{user.get_full_name()} <{user.email}>"
    until = moment_text(invitation.link.expires_at)
    again = " (their access is back)" if invitation.reactivated else ""
    try:
        partner_access.email_invitation(invitation, url, request.user)
    except (OSError, smtplib.SMTPException) as error:
        if shown_to_inviter:
            messages.error(
                request,
                f"{who} was invited{again}, but e-mailing the link failed ({error}). Send it yourself; it is shown "
                f"only now, and works until {until}: {url}",
            )
        else:
            messages.error(
                request,
                f"{who} was invited{again}, but e-mailing the link failed: ask your TradingView PM to send one.",
            )
        return
    shown = f" Shown only now, it works until {until}: {url}" if shown_to_inviter else ""
    messages.success(request, f"Invited {who}{again}: the sign-in link was e-mailed.{shown}")


@require_POST
@staff_required
def invite_view(request, pk):
    integration = _load(pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = partner_access.invite(
                integration.partner, form.cleaned_data["name"], form.cleaned_data["email"], request.user
            )
        except Refusal as refusal:
            form.add_error(None, refusal.message)
        else:
            send_invitation(request, invitation, shown_to_inviter=True)
            return redirect(_page_url(pk) + "#access")
    messages.error(request, "Nobody was invited: " + " ".join(e for errors in form.errors.values() for e in errors))
    return render(request, "dashboard/integration.html", _context(request, integration, invite_form=form), status=400)


@require_POST
@staff_required
def revoke_view(request, pk, account_pk):
    integration = _load(pk)
    account = get_object_or_404(PartnerUser.objects.select_related("user"), pk=account_pk, partner=integration.partner)
    links = partner_access.revoke_access(account)
    user = account.user
    ended = f" and {links} live link{'s' if links != 1 else ''} revoked" if links else ""
    messages.success(
        request, f"{user.get_full_name() or user.get_username()} can no longer sign in{ended}; their sessions end now."
    )
    return redirect(_page_url(pk) + "#access")


@require_POST
@staff_required
def team_may_invite_view(request, pk):
    integration = _load(pk)
    partner = integration.partner
    partner.team_may_invite = request.POST.get("team_may_invite") == "1"
    partner.save(update_fields=["team_may_invite"])
    if partner.team_may_invite:
        messages.success(request, f"{partner}'s team may now invite colleagues from its stage page.")
    else:
        messages.success(request, f"Only TradingView invites people to {partner}'s team now.")
    return redirect(_page_url(pk) + "#access")


urlpatterns = [
    path("integrations/<int:pk>/access/invite/", invite_view, name="partner-invite"),
    path("integrations/<int:pk>/access/<int:account_pk>/revoke/", revoke_view, name="partner-access-revoke"),
    path("integrations/<int:pk>/access/team-may-invite/", team_may_invite_view, name="partner-team-may-invite"),
]
