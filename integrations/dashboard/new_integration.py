"""A new integration from the dashboard: a short form, the planned dates shown, then created and
kicked off at once.

Two steps in one form: "Show the plan" validates what was typed and shows the dates a kick-off on
that day plans (``plan.preview``, the same computation as the kick-off); "Create and kick off"
validates again and, in one transaction, makes the partner (when new), the integration, and
kicks it off through ``plan.start_integration``. Anything refused leaves nothing behind and comes
back as the form, with what was typed and the reason (400). The admin keeps every other field.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse

from integrations import plan
from integrations.clock import today_for
from integrations.context import ChangeContext
from integrations.dashboard.access import staff_required
from integrations.forms import DateInput
from integrations.models import Integration, Partner, validate_time_zone
from integrations.text import day_text
from roadmap import default_template
from roadmap.models import RoadmapTemplate
from roadmap.refusals import Refusal


class NewIntegrationForm(forms.ModelForm):
    partner = forms.ModelChoiceField(
        Partner.objects.order_by("name"), required=False, empty_label="A new partner…", label="Partner"
    )
    new_partner_name = forms.CharField(
        label="New partner's name", max_length=200, required=False, help_text="When the partner is new."
    )
    new_partner_time_zone = forms.CharField(
        label="Its time zone",
        max_length=64,
        required=False,
        initial="UTC",
        help_text="IANA name, e.g. Europe/London: the partner's deadlines end in it.",
    )
    kickoff_on = forms.DateField(
        label="Kick-off date",
        initial=today_for,
        widget=DateInput,
        help_text="The day of the kick-off call; every step is due a number of weeks after it.",
    )

    class Meta:
        model = Integration
        fields = [
            "parts",
            "data_types",
            "data_source",
            "data_auth",
            "trading_auth",
            "slack_channel_id",
            "jira_project_key",
            "tv_pm",
        ]
        labels = {"slack_channel_id": "Slack channel id", "jira_project_key": "Jira project key"}
        help_texts = {
            "data_types": "For a data part.",
            "slack_channel_id": "Optional, e.g. C024BE91L.",
            "jira_project_key": "Optional, e.g. BRK.",
        }

    field_order = ["partner", "new_partner_name", "new_partner_time_zone", "parts", "data_types", "data_source"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tv_pm"].queryset = (
            get_user_model().objects.filter(is_staff=True, is_active=True).order_by("first_name", "username")
        )
        self.fields["tv_pm"].label_from_instance = lambda u: u.get_full_name() or u.get_username()
        if user is not None and user.is_staff and not self.is_bound:
            self.initial.setdefault("tv_pm", user.pk)
        for name in ("data_source", "data_auth", "trading_auth"):
            self.fields[name].help_text = "For a data part." if name.startswith("data") else "For a trading part."

    def clean_new_partner_name(self):
        return " ".join(self.cleaned_data["new_partner_name"].split())

    def clean_new_partner_time_zone(self):
        zone = self.cleaned_data["new_partner_time_zone"].strip() or "UTC"
        validate_time_zone(zone)
        return zone

    def clean(self):
        data = super().clean()
        partner, name = data.get("partner"), data.get("new_partner_name")
        if partner is None and not name and "new_partner_name" not in self.errors:
            self.add_error("new_partner_name", "Choose the partner, or give the new partner's name.")
        elif partner is not None and name:
            self.add_error("new_partner_name", f"Leave this empty: the partner chosen is {partner}.")
        elif partner is None and name:
            existing = Partner.objects.filter(name__iexact=name).first()
            if existing is not None:
                self.add_error("new_partner_name", f"{existing} is already a partner: choose it in the list.")
        return data

    def _post_clean(self):
        # The model's own checks (parts and their fields) need the template and a partner.
        try:
            self.instance.template = RoadmapTemplate.latest(default_template.KEY)
        except RoadmapTemplate.DoesNotExist:
            self.add_error(None, "The default roadmap template is not installed: run the migrations.")
            return
        partner = self.cleaned_data.get("partner")
        if partner is None:
            partner = Partner(
                name=self.cleaned_data.get("new_partner_name", ""),
                time_zone=self.cleaned_data.get("new_partner_time_zone") or "UTC",
            )
            partner.default_country_from_zone()
        self.instance.partner = partner
        super()._post_clean()

    def planned(self, today):
        """The steps the kick-off would plan; a refused date becomes the kick-off field's error."""
        try:
            return plan.preview(self.instance, self.cleaned_data["kickoff_on"], today)
        except Refusal as refusal:
            self.add_error("kickoff_on", refusal.message)
            return None


def _render(request, form, planned=None, status=200):
    launch = planned[-1].due_date if planned else None
    context = {"nav": "portfolio", "form": form, "planned": planned, "launch": launch}
    return render(request, "dashboard/new_integration.html", context, status=status)


@staff_required
def new_integration(request):
    if request.method != "POST":
        return _render(request, NewIntegrationForm(user=request.user))
    form = NewIntegrationForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render(request, form, status=400)
    context = ChangeContext.web(request.user)
    planned = form.planned(context.today)
    if planned is None:
        return _render(request, form, status=400)
    if request.POST.get("confirm") != "1":
        return _render(request, form, planned)
    integration = form.instance
    new_partner = integration.partner.pk is None
    try:
        with transaction.atomic():
            if new_partner:
                integration.partner.save()
                integration.partner = integration.partner  # the saved partner's id into the foreign key
            integration.save()
            plan.start_integration(integration, form.cleaned_data["kickoff_on"], context)
    except Refusal as refusal:
        # Rolled back: nothing was written, and the form shows what was typed.
        integration.pk = None
        if new_partner:
            integration.partner.pk = None
        form.add_error(None, refusal.message)
        return _render(request, form, planned, status=400)
    messages.success(
        request,
        f"{integration} created and kicked off on {day_text(integration.kickoff_on)}: "
        f"planned launch {day_text(integration.baseline_launch_on)}. Invite the partner's people below.",
    )
    return redirect(reverse("integration-page", args=[integration.pk]) + "#access")


urlpatterns = [path("integrations/new/", new_integration, name="integration-new")]
