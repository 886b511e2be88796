"""Who sees what: the one visibility rule, on the querysets (``Model.objects.visible_to(user)``).

Staff see everything. A partner's user sees its own partner, its integrations and what hangs off
them. Anyone else (anonymous, inactive, signed in but of no partner) sees nothing. Pages, the API,
Slack buttons, calendars and exports narrow their rows through ``visible_to``, so a foreign object
is simply not found (404), never forbidden: ids of other partners reveal nothing.

Each model that a partner may see names the lookup from its rows to their partner in
``PARTNER_LOOKUP`` and uses ``VisibleQuerySet`` (or a subclass) as its manager.
"""

from django.db import models


def partner_of(user):
    """The partner a signed-in, active, non-staff user works for, or None."""
    if user is None or not user.is_authenticated or not user.is_active or user.is_staff:
        return None
    account = getattr(user, "partner_account", None)
    return account.partner if account else None


def sees_everything(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user):
        """These rows narrowed to the ones ``user`` may see."""
        if sees_everything(user):
            return self
        partner = partner_of(user)
        if partner is None:
            return self.none()
        return self.filter(**{self.model.PARTNER_LOOKUP: partner.pk})
