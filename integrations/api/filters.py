"""The integrations list's filters: the portfolio's own (``Filters``, ``filter_portfolio``), checked strictly.

The portfolio page quietly ignores a value it does not know; a script should hear about its typo,
so here each parameter is validated against the same choices the portfolio reads, then handed to
``Filters.from_request`` unchanged.
"""

from django.core.validators import RegexValidator
from rest_framework import serializers

from integrations.models import Integration
from integrations.read_models.portfolio import SIDE_CHOICES, SORTS, STATE_CHOICES, Filters, PortfolioRows

FLAG = [("0", "No"), ("1", "Yes")]
SORT_CHOICES = [key for name in SORTS for key in (name, f"-{name}")]


class PortfolioQuery(serializers.Serializer):
    pm = serializers.CharField(
        required=False,
        max_length=20,
        validators=[RegexValidator(r"^(me|none|[0-9]{1,9})$", "Give 'me', 'none' or a user id.")],
        help_text="'me', 'none' (no PM) or a PM's user id.",
    )
    side = serializers.ChoiceField(SIDE_CHOICES, required=False, help_text="Ball in court.")
    overdue = serializers.ChoiceField(FLAG, required=False, help_text="1: only those past a deadline.")
    blocked = serializers.ChoiceField(FLAG, required=False, help_text="1: only those with a blocked step.")
    due = serializers.ChoiceField([("week", "This week")], required=False, help_text="A deadline this week.")
    launch = serializers.ChoiceField([("month", "This month")], required=False, help_text="Launching this month.")
    data_type = serializers.ChoiceField(Integration.DataType.choices, required=False)
    parts = serializers.ChoiceField(Integration.Parts.choices, required=False)
    state = serializers.ChoiceField(STATE_CHOICES, required=False, help_text="Default: running (active or paused).")
    q = serializers.CharField(required=False, max_length=100, allow_blank=True, help_text="Partner, name or Jira key.")
    sort = serializers.ChoiceField(
        SORT_CHOICES,
        required=False,
        help_text="partner, due, forecast, slip, bugs, updated, activity (the last change a person or Jira made); '-' for descending.",
    )


# The parameters' names, read once: each PortfolioQuery() deep-copies its fields.
QUERY_NAMES = tuple(PortfolioQuery().fields)


def portfolio(params, user) -> PortfolioRows:
    """The integrations matching the query parameters ``params`` that ``user`` may see (the SQL of the
    common queries written once: ``PortfolioRows``); a ValidationError names a bad parameter.

    None of the portfolio page's extra columns (bugs, messages, last activity...): the API shows
    none of them; only the one sorted on is computed, to sort.
    """
    given = {name: params.get(name) for name in QUERY_NAMES if name in params}
    if not given:
        # Nothing to check: the serializer's copy of its fields and its validation were a tenth of the default list.
        return PortfolioRows(Filters(), user, columns=())
    query = PortfolioQuery(data=given)
    query.is_valid(raise_exception=True)
    return PortfolioRows(Filters.from_request(query.validated_data), user, columns=())
