"""Who changes the roadmap, from where, when and why: the one object every service takes.

The admin, the pages, the API, Jira and Slack each build a ``ChangeContext`` and pass it to the
services in ``integrations.plan`` and ``integrations.steps``; it is validated here, once, and
becomes the who/when/source/note of every history row the change writes.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from integrations.clock import day_of
from integrations.models import ChangeSource
from integrations.text import NOTE_MAX, clean_text, moment_text, too_long
from roadmap.refusals import InvalidInput, ReasonRequired

# Clocks of the machines that report changes (Jira, a browser) drift a little; a change dated
# this far ahead of ours is taken as made now rather than refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ChangeContext:
    source: str  # a ChangeSource: web, api, jira, slack, system
    by: AbstractBaseUser | None = None  # the user, when the change was made by one of ours
    by_name: str = ""  # who, when known only to Jira or Slack
    at: datetime | None = None  # when it happened, if not now (a Jira event's own time)
    note: str = ""  # why
    # A PM shares the note with the partner (``StepChange``/``IntegrationEvent.PARTNER_READS``).
    shared_with_partner: bool = False
    moment: datetime = field(init=False)  # ``at``, or the time the context was made
    entered: datetime = field(init=False)  # the time the context was made: when the change was entered

    def __post_init__(self):
        if self.source not in ChangeSource.values:
            raise InvalidInput(f"Unknown change source {self.source!r}; use one of {', '.join(ChangeSource.values)}.")
        if self.by is not None and not isinstance(self.by, AbstractBaseUser):
            raise InvalidInput(f"A change is made by a user, not by {self.by!r}.")
        if not isinstance(self.by_name, str) or len(self.by_name) > 200:
            raise InvalidInput("Give who made the change as a name of at most 200 characters.")
        if not isinstance(self.note, str):
            raise InvalidInput("The note must be text.")
        if not isinstance(self.shared_with_partner, bool):
            raise InvalidInput("Whether the note is shared with the partner is true or false.")
        now = timezone.now()
        moment = self.at or now
        if not isinstance(moment, datetime) or timezone.is_naive(moment):
            raise InvalidInput(f"The time of a change must be a date and time with its time zone, not {moment!r}.")
        if moment > now + CLOCK_SKEW:
            raise InvalidInput(
                f"The change is dated {moment_text(moment)}, in the future; record it when it has happened."
            )
        object.__setattr__(self, "note", clean_text(self.note))
        object.__setattr__(self, "moment", min(moment, now))
        object.__setattr__(self, "entered", now)

    @classmethod
    def web(
        cls, user, note: str = "", shared_with_partner: bool = False, at: datetime | None = None
    ) -> "ChangeContext":
        """A change a signed-in person makes on a page (the dashboard, the stage page, the admin): now,
        or back-dated to ``at`` ("they finished on Friday, I'm entering it on Monday"), which then
        needs the note saying why. The note is what the person typed: at most ``NOTE_MAX``
        characters, as the API's."""
        return cls._entered_by(ChangeSource.WEB, user, note, shared_with_partner, at)

    @classmethod
    def api(cls, user, note: str = "", at: datetime | None = None) -> "ChangeContext":
        """A change a script makes through the API: now, or back-dated to ``at`` with the note saying
        why, as on a page."""
        return cls._entered_by(ChangeSource.API, user, note, False, at)

    @classmethod
    def _entered_by(cls, source, user, note, shared_with_partner, at) -> "ChangeContext":
        context = cls(source=source, by=user, note=note, shared_with_partner=shared_with_partner, at=at)
        if too_long(context.note, NOTE_MAX):
            raise InvalidInput(f"The note is too long: {too_long(context.note, NOTE_MAX).lower()}")
        if at is not None and not context.note:
            raise ReasonRequired("Say why the change is entered with an earlier date.")
        return context

    @property
    def back_dated(self) -> bool:
        """Entered later than it happened, beyond the clocks' drift: the history shows both moments."""
        return self.entered - self.moment > CLOCK_SKEW

    def with_note(self, note: str) -> "ChangeContext":
        return replace(self, note=note, at=self.moment)

    def row(self) -> dict:
        """The who, when and where of a history row, and whether its note is shared with the partner."""
        return {
            "at": self.moment,
            "source": self.source,
            "by": self.by,
            "by_name": self.by_name,
            "shared_with_partner": self.shared_with_partner,
            "entered_at": self.entered if self.back_dated else None,
        }

    @property
    def today(self):
        """The day of the change in the project's time zone."""
        return day_of(self.moment)

    def __str__(self):
        who = self.by.get_username() if self.by else self.by_name or "system"
        return f"{who} via {self.source} at {moment_text(self.moment)}"
