"""Free text as the product keeps it, cleaned once, the same way wherever it comes in.

A browser sends a textarea's line ends as CR LF, a script may send CR alone, and a value may come
wrapped in spaces or line ends. Text is cleaned BEFORE it is measured or checked, so a limit
counts what is kept: line ends become LF, surrounding whitespace goes. The pages' forms
(``FreeTextField``), the API's serializers, the hand-over records and the change context's note
all clean through ``clean_text``.
"""

import functools

from django import forms
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.formats import date_format, get_format
from django.utils.timesince import timesince
from django.utils.translation import get_language

from roadmap.schedule import working_days_text

# The longest note a person may give with a change (a reason, a block, a re-plan).
NOTE_MAX = 2000


def clean_text(value) -> str:
    """``value`` as text with LF line ends and no surrounding whitespace ('' for None)."""
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def too_long(text: str, limit: int) -> str:
    """Why ``text`` (already cleaned) is refused for ``limit``; '' when it fits."""
    if len(text) <= limit:
        return ""
    return f"At most {limit} characters; this has {len(text)}."


def clean_limited(value, limit: int) -> str:
    """``clean_text(value)``, refused (``ValidationError``) when it is longer than ``limit``."""
    text = clean_text(value)
    message = too_long(text, limit)
    if message:
        raise ValidationError(message, code="max_length")
    return text


class FreeTextField(forms.CharField):
    """A form's free text: cleaned by ``clean_text`` before its length and other checks."""

    def to_python(self, value):
        value = super().to_python(value)
        return clean_text(value) if value not in self.empty_values else value


def working_days(n: int) -> str:
    """``n`` as every surface says a count of days late, overdue, left, slipped or charged: "3 working days".

    One unit (``roadmap.standing.working_days_late``), named wherever it is shown, so a number of
    days late can be read beside the delay charged for it.
    """
    return working_days_text(n)


def day_text(day, weekday: bool = False) -> str:
    """``day`` as people read it everywhere (pages, Slack, e-mail): "27 Nov 2026", config/formats' DATE_FORMAT;
    with ``weekday``, "Fri 27 Nov 2026" (as the portfolio's next due).

    Machine formats (CSV, the API, iCalendar, keys) stay ISO and are not written through this.
    """
    if not day:
        return ""
    return _day_text(day, "D DATE_FORMAT" if weekday else "DATE_FORMAT", get_language())


def day_month_text(day) -> str:
    """``day`` without its year, as a list shows a date beside a fuller one: "27 Nov"."""
    return _day_text(day, "j M", get_language()) if day else ""


@functools.lru_cache(maxsize=4096)
def _day_text(day, form: str, language) -> str:
    # A page writes the same few days many times (a portfolio page of 50 rows, a timeline's step
    # bars): Django's formatting costs about 20 microseconds a call, kept here by day, form and
    # language (the cache is emptied when a test changes a setting).
    if form == "D DATE_FORMAT":
        return f"{date_format(day, 'D')} {date_format(day, 'DATE_FORMAT')}"
    return date_format(day, form)


def _forget_day_texts(**kwargs):
    _day_text.cache_clear()
    _moment_form.cache_clear()


setting_changed.connect(_forget_day_texts)


def moment_text(moment) -> str:
    """A date-time as people read it: "27 Nov 2026, 21:05" in the current time zone (DATETIME_FORMAT)."""
    if not moment:
        return ""
    local = timezone.localtime(moment)
    form = _moment_form(get_language())
    if form is None:
        return date_format(local, "DATETIME_FORMAT")
    return "".join(piece if isinstance(piece, str) else piece(local) for piece in form)


# The format characters ``moment_text`` writes itself, as Django's date format writes them.
MOMENT_PIECES = {
    "j": lambda m: str(m.day),
    "d": lambda m: f"{m.day:02d}",
    "n": lambda m: str(m.month),
    "m": lambda m: f"{m.month:02d}",
    "Y": lambda m: f"{m.year:04d}",
    "G": lambda m: str(m.hour),
    "H": lambda m: f"{m.hour:02d}",
    "i": lambda m: f"{m.minute:02d}",
}


@functools.lru_cache(maxsize=16)
def _moment_form(language) -> tuple | None:
    """DATETIME_FORMAT in ``language`` as its pieces: text, or a function of the moment; None when it holds a
    character ``MOMENT_PIECES`` lacks (Django's formatter writes it then).

    Every row of a list writes a moment (a page of 50 rows, its last activity), all different: Django's
    formatter costs some 25 microseconds a call, in its lazy translations of the month's name; this, 3."""
    months = {month: str(MONTHS_3[month]).title() for month in MONTHS_3}  # as the format's "M" writes them
    pieces = {**MOMENT_PIECES, "M": lambda m: months[m.month]}
    form = []
    for char in get_format("DATETIME_FORMAT"):
        if char in pieces:
            form.append(pieces[char])
        elif char.isalpha() or char == "\\":
            return None
        else:
            form.append(char)
    return tuple(form)


def ago_text(moment, now=None) -> str:
    """How long ago ``moment`` was, as pages say it: "just now" under a minute, else "3 hours ago"."""
    if not moment:
        return ""
    now = now or timezone.now()
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now)} ago"
