"""The partner's pages: their integrations, the stage page, and the changes they make there.

Views are thin: every object is looked up through ``integrations.stage.access`` (a foreign one is
a 404), every change goes through the product's services (``apply_action``, the hand-over
records, the URL check), and every refusal comes back as a message on the page, never as an
error. Forms post normally; htmx swaps the page's main region in place.
"""

import re
import smtplib

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from integrations import partner_access, plan
from integrations.actions import ACTIONS
from integrations.comments import post_comment
from integrations.context import ChangeContext
from integrations.forms import InviteForm, StepActionForm
from integrations.handovers.models import Part
from integrations.handovers.records import save_auth_sheet, set_beta_testers
from integrations.handovers.url_check import hand_over_url, still_checking
from integrations.issued_tokens import token_digest
from integrations.models import Integration
from integrations.stage import access, calendar, page
from integrations.stage.access import stage_view
from integrations.stage.handover_view import BetaTestersForm, SheetForm, UrlForm, parts_of
from integrations.stage.magic_links import claim
from integrations.stage.models import CalendarFeed, MagicLink
from integrations.stage.team import member_form
from integrations.steps import apply_action
from roadmap.refusals import Refusal

# Staff previewing every partner's page see them a page at a time.
LIST_PAGE_SIZE = 50

# A check's id as the hand-over card's poll sends it.
CHECK_ID = re.compile(r"[0-9]{1,18}")

# The partner's own actions that TradingView's channel hears of (``notifications.notices``).
TOLD_TO_TRADINGVIEW = {"complete", "block"}


def stage_url(pk) -> str:
    return reverse("stage-page", args=[pk])


def _back(pk, anchor=""):
    return redirect(stage_url(pk) + (f"#{anchor}" if anchor else ""))


def _render_stage(request, integration, status=200, **forms):
    # htmx swaps only 2xx answers: a refused form comes back as 200 to it, 400 to a plain post.
    if status >= 400 and request.htmx:
        status = 200
    return render(request, "stage/stage.html", page.stage_context(request, integration, **forms), status=status)


# --- pages ------------------------------------------------------------------------------------


def home(request):
    """Where logging in lands: staff on the portfolio, everyone else on their integrations."""
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("portfolio")
    return redirect("stage-list")


@stage_view
def integration_list(request):
    """The user's integrations; a partner with exactly one goes straight to it."""
    visible = (
        Integration.objects.visible_to(request.user)
        .select_related("partner", "current_step")
        .order_by("partner__name", "name")
    )
    page = Paginator(visible, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    if page.paginator.count == 1 and not request.user.is_staff:
        return redirect(stage_url(page[0].pk))
    return render(
        request,
        "stage/list.html",
        {"nav": "stage", "integrations": page, "page": page, "preview": request.user.is_staff, "now": timezone.now()},
    )


@stage_view
def stage_page(request, pk):
    integration = page.load(request.user, pk)
    return _render_stage(request, integration)


# --- steps ------------------------------------------------------------------------------------


@require_POST
@stage_view
def step_action(request, pk, action):
    """Take ``action`` on the step: the same rules as everywhere (who, prerequisites, bugs, hand-overs),
    now or back-dated to when it happened (``at``, in the partner's time zone, with why)."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    step = access.step_for(request.user, pk)
    form = StepActionForm(request.POST, zone=step.integration.partner.zone)
    if not form.is_valid():
        messages.error(request, f"{step}: " + " ".join(e for errors in form.errors.values() for e in errors))
        return _render_stage(request, page.load(request.user, step.integration_id), 400)
    data = form.cleaned_data
    try:
        # The partner gave its date in its own zone: a refusal names the times in that zone too.
        with timezone.override(step.integration.partner.zone):
            apply_action(step, action, ChangeContext.web(request.user, data["note"], at=data["at"]))
    except Refusal as refusal:
        messages.error(request, refusal.message)
        return _render_stage(request, page.load(request.user, step.integration_id), refusal.http_status)
    told = ": TradingView has been told" if action in TOLD_TO_TRADINGVIEW else ""
    messages.success(request, f"{step} {ACTIONS[action].done}{told}.")
    return _back(step.integration_id, "owed")


@require_POST
@stage_view
def comment(request, pk):
    """Comment on a step the partner may see (never internal: only TradingView writes those)."""
    step = access.step_for(request.user, pk)
    try:
        post_comment(step, request.user, request.POST.get("body", ""))
    except Refusal as refusal:
        messages.error(request, f"{step.title}: comment not posted: {refusal.message}")
        integration = page.load(request.user, step.integration_id)
        return _render_stage(request, integration, refusal.http_status, open_thread=step.pk)
    messages.success(request, f"{step.title}: comment posted.")
    return _back(step.integration_id, f"comments-{step.pk}")


# --- hand-overs -------------------------------------------------------------------------------


@require_POST
@stage_view
def handover_url(request, pk):
    """Hand over a base URL for a part and environment. The worker checks it: the page answers at
    once, and the hand-over card shows the result when it is in (``handover_checks``)."""
    integration = page.load(request.user, pk)
    form = UrlForm(request.POST, integration=integration)
    key = f"{request.POST.get('part', '')}-{request.POST.get('environment', '')}"
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return _url_refused(request, integration, key, message, request.POST.get("url", ""))
    data = form.cleaned_data
    try:
        check = hand_over_url(integration, data["part"], data["environment"], data["url"], by=request.user)
    except ValidationError as error:
        message = " ".join(error.message_dict.get("url", error.messages))
        return _url_refused(request, integration, key, message, data["url"])
    where = f"{Part(data['part']).label} {data['environment']} URL"
    messages.info(request, f"{where} handed over. Checking {check.url}: the result appears below in a few seconds.")
    return _back(pk, "handovers")


@require_GET
@stage_view
def handover_checks(request, pk):
    """What the hand-over card polls while checks are pending (``?pending=<ids>``): nothing to
    swap (204) while they all still run; the page, from which htmx takes the card and the steps
    it holds, once one has finished."""
    integration = access.integration_for(request.user, pk)
    pending = [int(n) for n in request.GET.get("pending", "").split(",")[:20] if CHECK_ID.fullmatch(n)]
    if still_checking(integration, pending):
        return HttpResponse(status=204)
    return _render_stage(request, page.load(request.user, pk))


def _url_refused(request, integration, key, message, value):
    messages.error(request, f"Not handed over: {message}")
    integration = page.load(request.user, integration.pk)
    return _render_stage(request, integration, 400, url_error={"key": key, "message": message, "value": value})


@require_POST
@stage_view
def beta_testers(request, pk):
    integration = page.load(request.user, pk)
    form = BetaTestersForm(request.POST)
    if form.is_valid():
        try:
            names = set_beta_testers(integration, form.cleaned_data["beta_testers"], by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error("beta_testers" if field not in form.fields else field, errors)
        else:
            messages.success(request, f"Beta testers saved: {', '.join(names)}.")
            return _back(pk, "handovers")
    return _render_stage(request, page.load(request.user, pk), 400, beta_form=form)


@require_POST
@stage_view
def auth_sheet(request, pk, part):
    integration = page.load(request.user, pk)
    if part not in parts_of(integration):
        raise Http404("No such part.")
    form = SheetForm(request.POST, integration=integration, part=part)
    if form.is_valid():
        try:
            save_auth_sheet(integration, part, form.cleaned_data, by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"{Part(part).label} authorisation sheet saved.")
            return _back(pk, "handovers")
    return _render_stage(request, page.load(request.user, pk), 400, sheet_form=(part, form))


# --- team line-up -----------------------------------------------------------------------------


@require_POST
@stage_view
def team_add(request, pk):
    integration = access.integration_for(request.user, pk)
    form = member_form(integration, data=request.POST)
    if form.is_valid():
        member = form.save()
        messages.success(request, f"{member} added to the team.")
        return _back(pk, "team")
    return _render_stage(request, page.load(request.user, pk), 400, new_member_form=form)


@require_POST
@stage_view
def team_edit(request, pk, member_pk):
    member = access.team_member_for(request.user, pk, member_pk)
    form = member_form(member.integration, member, data=request.POST)
    if form.is_valid():
        member = form.save()
        messages.success(request, f"{member} saved.")
        return _back(pk, "team")
    return _render_stage(request, page.load(request.user, pk), 400, member_forms={member.pk: form})


@require_POST
@stage_view
def team_remove(request, pk, member_pk):
    member = access.team_member_for(request.user, pk, member_pk)
    member.delete()
    messages.success(request, f"{member} removed from the team.")
    return _back(pk, "team")


@require_POST
@stage_view
def team_invite(request, pk):
    """Invite a colleague, when the PM lets the partner's team do so: a login of the partner and a
    magic link e-mailed to them. The link is never shown here: it is the colleague's alone."""
    integration = access.integration_for(request.user, pk)
    form = InviteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            invitation = partner_access.invite(
                integration.partner, form.cleaned_data["name"], form.cleaned_data["email"], request.user
            )
        except Refusal as refusal:
            form.add_error(None, refusal.message)
            status = refusal.http_status
        else:
            user = invitation.account.user
            url = request.build_absolute_uri(reverse("stage-magic-link", args=[invitation.raw_token]))
            try:
                partner_access.email_invitation(invitation, url, request.user)
            except (OSError, smtplib.SMTPException):
                messages.error(
                    request,
                    f"{user.get_full_name()} was invited, but e-mailing the sign-in link failed: "
                    "ask your TradingView PM to send them one.",
                )
            else:
                messages.success(
                    request, f"Invited {user.get_full_name()}: a sign-in link was e-mailed to {user.email}."
                )
            return _back(pk, "team")
    messages.error(request, "Nobody was invited: " + " ".join(e for errors in form.errors.values() for e in errors))
    return _render_stage(request, page.load(request.user, pk), status, invite_form=form)


# --- calendar feeds ---------------------------------------------------------------------------


@require_POST
@stage_view
def calendar_create(request, pk):
    integration = access.integration_for(request.user, pk)
    feed, raw = CalendarFeed.issue(partner_id=integration.partner_id, created_by=request.user)
    messages.success(
        request,
        f"Your calendar link (shown only this once; add it to your calendar app): {calendar.feed_url(request, raw)}",
    )
    return _back(pk, "calendar")


@require_POST
@stage_view
def calendar_revoke(request, pk, feed_pk):
    integration = access.integration_for(request.user, pk)
    feed = access.calendar_feed_for(integration, feed_pk)
    feed.revoke()
    messages.success(request, f"Calendar link {feed.prefix}… revoked: it no longer works.")
    return _back(pk, "calendar")


@require_POST
@stage_view
def holidays(request, pk):
    """The public holidays the partner keeps: its country and region (``plan.set_holidays``)."""
    integration = access.integration_for(request.user, pk)
    country, subdivision = request.POST.get("country", "")[:3], request.POST.get("subdivision", "")[:10]
    try:
        plan.set_holidays(integration.partner, country, subdivision, ChangeContext.web(request.user))
    except Refusal as refusal:
        messages.error(request, f"Holidays not changed: {refusal.message}")
    else:
        where = integration.partner.calendar.place or "none (weekends only)"
        messages.success(request, f"Public holidays kept: {where}.")
    return _back(pk, "calendar")


# --- magic links ------------------------------------------------------------------------------


def magic_link(request, token: str):
    """Opening a link (GET) shows who it signs in and one button; pressing it (POST, with the page's
    CSRF token) signs in, once. So a mail scanner's GET uses nothing up, another site cannot sign a
    browser in as someone else (login CSRF), and a different user already signed in is told they
    will be signed out, never swapped silently."""
    link = MagicLink.find(token)
    if link is None or not link.user.is_active:
        return render(request, "stage/link_ended.html", {}, status=410 if _known(token) else 404)
    if link.last_used_at is not None:
        if request.session.get(access.LINK_SESSION_KEY) == link.pk and request.user == link.user:
            return redirect("stage-list")  # the browser that used it, opening it again
        return render(request, "stage/link_ended.html", {"used": True}, status=410)
    if request.method != "POST":
        signed_in = request.user if request.user.is_authenticated and request.user != link.user else None
        return render(
            request,
            "stage/magic_link.html",
            {"link": link, "partner": link.user.partner_account.partner, "signed_in": signed_in},
        )
    if not claim(link):
        return render(request, "stage/link_ended.html", {"used": True}, status=410)
    if request.user.is_authenticated and request.user != link.user:
        logout(request)
    login(request, link.user, backend="django.contrib.auth.backends.ModelBackend")
    # After login(): it cycles the session key but keeps the data set after it.
    request.session[access.LINK_SESSION_KEY] = link.pk
    return redirect("stage-list")


def session_ended(request):
    """Where htmx sends a browser whose magic-link session ended (the middleware logged it out)."""
    if request.user.is_authenticated:
        return redirect("stage-home")
    return render(request, "stage/link_ended.html", {"session_ended": True})


def _known(token: str) -> bool:
    """Whether ``token`` was a link once (revoked or expired), for the status code only."""
    return bool(token) and len(token) <= 200 and MagicLink.objects.filter(token_hash=token_digest(token)).exists()
