"""Linking a Jenkins job to an integration's part, from the integration's page; revoking its token.

Staff only. The token (and the signing secret derived from it) is shown once, in the answer to
the POST that made it; only its hash is kept. The page's "Autotests" section shows each part's
latest run (``integrations.jenkins.runs.autotests_summary``).
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from integrations.dashboard.access import staff_required
from integrations.dashboard.integration_page import _context, _load
from integrations.jenkins.models import JenkinsJob, Part
from integrations.jenkins.runs import integration_parts
from integrations.text import clean_text


class JenkinsJobForm(forms.Form):
    part = forms.ChoiceField(choices=Part.choices)
    job_name = forms.CharField(
        max_length=200, label="Jenkins job", help_text="The job's name as Jenkins sends it (its 'name')."
    )

    def __init__(self, *args, integration, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].choices = [(p, Part(p).label) for p in integration_parts(integration)]

    def clean_job_name(self):
        name = clean_text(self.cleaned_data["job_name"])
        if not name or any(ch in name for ch in "\n\r\t") or not name.isprintable():
            raise forms.ValidationError("Give the job's name on one line, as Jenkins shows it.")
        return name


@require_POST
@staff_required
def link_job(request, pk):
    """Link a Jenkins job to a part; the answer shows its token and signing secret, once."""
    integration = _load(pk)
    form = JenkinsJobForm(request.POST, prefix="jenkins", integration=integration)
    if not form.is_valid():
        context = _context(request, integration)
        context["jenkins_form"] = form
        return render(request, "dashboard/integration.html", context, status=400)
    job, raw = JenkinsJob.issue(
        integration=integration,
        part=form.cleaned_data["part"],
        job_name=form.cleaned_data["job_name"],
        created_by=request.user,
    )
    context = _context(request, integration)
    context["jenkins_issued"] = {
        "job": job,
        "token": raw,
        "secret": job.signing_secret(),
        "hook_url": request.build_absolute_uri(reverse("jenkins-webhook")) + "?token=" + raw,
    }
    response = render(request, "dashboard/integration.html", context)
    response["Cache-Control"] = "no-store"  # the token is on this page, and nowhere else
    return response


@require_POST
@staff_required
def revoke_job(request, pk):
    job = get_object_or_404(JenkinsJob.objects.select_related("integration"), pk=pk)
    job.revoke()
    messages.success(request, f"Revoked the token of {job.job_name}: Jenkins' notifications with it are refused.")
    return redirect(reverse("integration-page", args=[job.integration_id]) + "#autotests")


urlpatterns = [
    path("integrations/<int:pk>/jenkins/", link_job, name="integration-jenkins-link"),
    path("jenkins-jobs/<int:pk>/revoke/", revoke_job, name="jenkins-job-revoke"),
]
