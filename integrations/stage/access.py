"""How the partner's pages look objects up: through ``visible_to(user)``, the one visibility rule.

Staff see every integration (a PM previews what the partner sees); a partner user sees its own
partner's integrations; anyone else sees nothing. A foreign object is simply not found (404), so
a partner never learns whether another partner's integration, team member or feed exists.

A session opened by a magic link lives only as long as the link: ``link_ended`` says whether it
did, and ``integrations.stage.middleware`` applies it to every request, once for the whole site.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404

from integrations.models import Integration, IntegrationStep, TeamMember
from integrations.stage.models import CalendarFeed, MagicLink

# The session key holding the id of the magic link that opened the session.
LINK_SESSION_KEY = "stage_magic_link"


def integration_for(user, pk, queryset=None):
    """``user``'s integration ``pk``, or 404."""
    queryset = Integration.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), pk=pk)


def step_for(user, pk):
    """A step of an integration ``user`` may see, or 404; whether they may act on it is the actions' rule."""
    return get_object_or_404(
        IntegrationStep.objects.select_related("integration__partner").visible_to(user),
        pk=pk,
    )


def team_member_for(user, integration_pk, pk):
    return get_object_or_404(TeamMember.objects.visible_to(user), integration_id=integration_pk, pk=pk)


def calendar_feed_for(integration, pk):
    """One of the calendar feeds of ``integration``'s partner, or 404."""
    return get_object_or_404(CalendarFeed, partner_id=integration.partner_id, pk=pk)


def link_ended(request) -> bool:
    """Whether this session was opened by a magic link that is no longer live."""
    link_id = request.session.get(LINK_SESSION_KEY)
    if link_id is None:
        return False
    link = MagicLink.objects.filter(pk=link_id, user_id=request.user.pk).first()
    return link is None or not link.is_live()


def stage_view(view):
    """Anonymous: to the log-in page. (A session whose magic link ended never gets here: the
    middleware has logged it out.)"""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped
