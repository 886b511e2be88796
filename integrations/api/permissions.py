"""Who sees what: the one visibility rule every endpoint scopes its rows with.

Staff see everything. A partner's user sees its own partner, its integrations and what hangs
off them; anything else is 404, never 403, so ids of other partners reveal nothing. Any other
signed-in user sees nothing. Changes beyond the steps' own rules (``integrations.actions``) and
the partner's own hand-overs are staff's: ``StaffOnly`` makes them 403.
"""

from rest_framework import permissions

from integrations.actions import partner_of

# The lookup from each scoped model to its partner.
PARTNER_PATH = {
    "partner": "pk",
    "integration": "partner",
    "integrationstep": "integration__partner",
    "jiraissue": "integration__partner",
    "stepchange": "step__integration__partner",
    "integrationevent": "integration__partner",
    "urlcheck": "integration__partner",
    "authorisationsheet": "integration__partner",
}


def visible(queryset, user):
    """``queryset`` narrowed to the rows ``user`` may see."""
    if user.is_staff:
        return queryset
    partner = partner_of(user)
    if partner is None:
        return queryset.none()
    return queryset.filter(**{PARTNER_PATH[queryset.model._meta.model_name]: partner.pk})


class SignedIn(permissions.IsAuthenticated):
    """Any active, authenticated caller; what it sees is narrowed by ``visible``."""


class StaffOnly(permissions.BasePermission):
    message = "Only TradingView staff may do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
