"""``working_days``: a count of days as every page says it, with its unit ("3 working days")."""

from django import template

from integrations import text

register = template.Library()


@register.filter
def working_days(n) -> str:
    return text.working_days(int(n or 0))
