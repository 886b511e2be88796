"""Who may open the dashboard's pages: TradingView staff."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def staff_required(view):
    """Anonymous: to the log-in page. Signed in but not TradingView staff: 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("These pages are for TradingView staff.")
        return view(request, *args, **kwargs)

    return wrapped
