"""How pages say days: ``working_days``, a count with its unit ("3 working days"); ``ago``, how long
ago a moment was ("just now", "3 hours ago")."""

from django import template

from integrations import text

register = template.Library()


@register.filter
def working_days(n) -> str:
    return text.working_days(int(n or 0))


@register.filter
def ago(moment) -> str:
    return text.ago_text(moment)
