"""The API's permission classes. Who sees which rows is ``visible_to(user)`` on each queryset
(``integrations.visibility``): foreign objects are 404. Changes beyond the steps' own rules
(``integrations.actions``) and the partner's own hand-overs are staff's: ``StaffOnly`` makes them 403.
"""

from rest_framework import permissions


class SignedIn(permissions.IsAuthenticated):
    """Any active, authenticated caller; what it sees is narrowed by ``visible``."""


class StaffOnly(permissions.BasePermission):
    message = "Only TradingView staff may do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
