"""Forms of the input a change of plan or of a step needs before it runs: the admin's intermediate
pages and the dashboard's forms take them."""

from contextlib import nullcontext

from django import forms
from django.utils import timezone

from integrations.clock import today_for
from integrations.partner_access import NAME_MAX
from integrations.text import NOTE_MAX, FreeTextField


class DateInput(forms.DateInput):
    """The browser's date picker; it sends and shows ISO dates, whatever the admin's locale."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _note(label="Note", help_text="Kept in the integration's history.", required=False):
    return FreeTextField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


def _shared():
    return forms.BooleanField(
        label="Share this note with the partner",
        required=False,
        help_text="Notes on the partner's own steps, and re-plan reasons, are always the partner's to read; "
        "others stay TradingView's unless shared.",
    )


class KickoffForm(forms.Form):
    kickoff_on = forms.DateField(
        label="Kick-off date",
        initial=today_for,
        widget=DateInput,
        help_text="Each step is due a number of weeks after this date (YYYY-MM-DD).",
    )
    note = _note()
    shared_with_partner = _shared()


class ReplanForm(forms.Form):
    kickoff_on = forms.DateField(
        label="New kick-off date",
        widget=DateInput,
        help_text="Every step is planned again from this date, as the roadmap gives it (YYYY-MM-DD); "
        "the baseline launch stays as first planned.",
    )
    note = _note(
        label="Reason",
        help_text='Required: why the plan moves (e.g. "Partner\'s team changed; new start agreed on a call"). '
        "Kept with the re-plan and in each moved step's history; the partner reads it (its Slack channel hears it).",
        required=True,
    )


class AgreedLaunchForm(forms.Form):
    agreed_launch_on = forms.DateField(
        label="Agreed launch date",
        widget=DateInput,
        help_text="The day both sides agreed to open the integration to all users (YYYY-MM-DD): the launch "
        "is due on it from now; today or later, at most 3 years ahead.",
    )
    agreed_by = FreeTextField(
        label="Agreed by",
        max_length=200,
        help_text="Who agreed it, e.g. the partner's PM on the beta-testing call.",
    )
    note = _note(help_text="Optional; kept in the integration's history.")


class NoteForm(forms.Form):
    note = _note()
    shared_with_partner = _shared()


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker (no time zone: the form reads it in the person's zone)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DatedNoteForm(NoteForm):
    """A change's note and, when it is entered later than it happened, when it happened: a pause or
    a resume on the integration's page, and (``StepActionForm``) a step action.

    ``at`` is read in ``zone`` (the partner's on the stage page; the project's otherwise). The
    limits (not in the future, not before the last change) are the services' to judge."""

    at = forms.DateTimeField(
        label="When it happened",
        required=False,
        widget=DateTimeInput,
        help_text="Only when it happened earlier than now; then say why in the note.",
        error_messages={"invalid": "Give when it happened as a date and time (YYYY-MM-DD HH:MM)."},
    )

    def __init__(self, *args, zone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def full_clean(self):
        with timezone.override(self.zone) if self.zone else nullcontext():
            super().full_clean()


class StepActionForm(DatedNoteForm):
    """A step action's note and when it happened (the stage page reads it in the partner's zone)."""


class ReasonForm(forms.Form):
    reason = FreeTextField(
        max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text="Kept in the history."
    )
    shared_with_partner = _shared()


class InviteForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX, error_messages={"required": "Give the person's name."})
    email = forms.CharField(
        label="E-mail", max_length=150, error_messages={"required": "Give the person's e-mail address."}
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "invite")
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(placeholder="Name", autocomplete="off")
        self.fields["email"].widget = forms.EmailInput(
            attrs={"placeholder": "name@broker.example.com", "autocomplete": "off"}
        )
