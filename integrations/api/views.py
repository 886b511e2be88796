"""The API's endpoints: thin viewsets over the domain's functions.

Visibility comes from ``visible_to(user)`` on the querysets (foreign objects are 404), changes go through
``integrations.plan``, ``integrations.steps.apply_action`` and the hand-over records with a
``ChangeContext(source=api)``, and every refusal travels as the domain raised it to
``errors.exception_handler``.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import plan
from integrations.actions import step_actions
from integrations.api import serializers as shapes
from integrations.api.errors import validation_fields
from integrations.api.etags import check_if_match, etag_of, not_modified, tagged, unchanged_since_read
from integrations.api.filters import PortfolioQuery, portfolio
from integrations.api.pagination import ListedPages
from integrations.api.permissions import SignedIn, StaffOnly
from integrations.comments import comments_seen, post_comment
from integrations.context import ChangeContext
from integrations.handovers import records, rules, url_check
from integrations.handovers.models import Part
from integrations.jenkins.models import JenkinsBuild
from integrations.jira.models import JiraIssue
from integrations.models import (
    ChangeSource,
    Integration,
    IntegrationEvent,
    IntegrationStep,
    Partner,
    StepChange,
    step_notes_seen_by_partner,
)
from integrations.read_models.history import MergedHistory
from integrations.read_models.outbox import outbox_model
from integrations.standing import standing
from integrations.steps import apply_action
from integrations.visibility import sees_everything


def api_context(request, note: str = "") -> ChangeContext:
    return ChangeContext(source=ChangeSource.API, by=request.user, note=note)


def _valid(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- partners ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Partners you may see", tags=["partners"]),
    retrieve=extend_schema(summary="A partner", tags=["partners"]),
    create=extend_schema(summary="Add a partner (staff)", tags=["partners"]),
    partial_update=extend_schema(summary="Change a partner (staff)", tags=["partners"]),
)
class PartnerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = shapes.PartnerSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = Partner.objects.order_by("name", "pk")
        if self.request.user.is_staff:
            queryset = queryset.prefetch_related("contacts")
        return queryset.visible_to(self.request.user)

    def get_permissions(self):
        if self.action in ("create", "partial_update", "update"):
            return [SignedIn(), StaffOnly()]
        return [SignedIn()]


# --- integrations -----------------------------------------------------------------------------


def _history_row(row, user) -> dict:
    """A step change or an integration event as the history endpoint shows it to ``user``."""
    is_event = isinstance(row, IntegrationEvent)
    return {
        "kind": "integration_event" if is_event else "step_change",
        "id": row.pk,
        "at": row.at,
        "by": row.who,
        "source": row.source,
        "note": row.note_seen_by(user),
        "step": None if is_event else row.step,
        "from_status": None if is_event else row.from_status,
        "to_status": None if is_event else row.to_status,
        "from_due": None if is_event else row.from_due,
        "to_due": None if is_event else row.to_due,
        "event": row.kind if is_event else None,
        "from_value": row.from_value if is_event else None,
        "to_value": row.to_value if is_event else None,
    }


@extend_schema_view(
    list=extend_schema(
        summary="Integrations (the portfolio's filters)", tags=["integrations"], parameters=[PortfolioQuery]
    ),
    retrieve=extend_schema(summary="An integration with its standing", tags=["integrations"]),
    partial_update=extend_schema(summary="Change an integration's fields (staff)", tags=["integrations"]),
    update=extend_schema(exclude=True),
)
class IntegrationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = shapes.IntegrationSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    etag_actions = ("retrieve",)
    staff_actions = ("create", "partial_update", "update", "replan", "pause", "resume")

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return portfolio(self.request.query_params, user).queryset
        return Integration.objects.select_related("partner", "current_step", "tv_pm").visible_to(user)

    @property
    def paginator(self):
        # The list reads its pages as it shows them; the steps and history actions page plain lists.
        if self.action == "list" and not isinstance(getattr(self, "_paginator", None), ListedPages):
            self._paginator = ListedPages()
        return super().paginator

    def list(self, request, *args, **kwargs):
        # Counted, cut, its rows read with only the columns shown (``ListedPaginator``), written out row by row.
        page = self.paginate_queryset(portfolio(request.query_params, request.user))
        return self.get_paginated_response(shapes.listed_integrations(page, request.user))

    def get_permissions(self):
        if self.action in self.staff_actions:
            return [SignedIn(), StaffOnly()]
        return [SignedIn()]

    def _shown(self, integration) -> tuple[dict, str]:
        """The integration's detail as the API shows it, and its ETag."""
        integration = self.get_queryset().get(pk=integration.pk)
        context = {**self.get_serializer_context(), "standing": standing(integration)}
        data = shapes.IntegrationSerializer(integration, context=context).data
        marks = Integration.objects.filter(pk=integration.pk).aggregate(
            steps=Max("steps__updated_at"), sheets=Max("auth_sheets__updated_at"), checks=Max("url_checks__id")
        )
        return data, etag_of(data, marks)

    def _tag(self, integration):
        return lambda: self._shown(integration)[1]

    def _detail(self, integration, status_code=status.HTTP_200_OK) -> Response:
        data, tag = self._shown(integration)
        return tagged(Response(data, status=status_code), tag)

    def retrieve(self, request, *args, **kwargs):
        data, tag = self._shown(self.get_object())
        return not_modified(request, tag) or tagged(Response(data), tag)

    @extend_schema(
        summary="Add an integration, optionally kicking it off (staff)",
        tags=["integrations"],
        request=shapes.IntegrationCreateSerializer,
        responses={201: shapes.IntegrationSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = dict(_valid(shapes.IntegrationCreateSerializer, request))
        kickoff = data.pop("kickoff_on", None)
        with transaction.atomic():
            integration = Integration.objects.create(**data)
            if kickoff:
                plan.start_integration(integration, kickoff, api_context(request))
        return self._detail(integration, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise MethodNotAllowed(request.method)
        integration = self.get_object()
        serializer = self.get_serializer(integration, data=request.data, partial=True)
        with unchanged_since_read(request, integration, self._tag(integration)):
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return self._detail(integration)

    # --- plan ---------------------------------------------------------------------------------

    @extend_schema(
        summary="Re-plan from a new kick-off (staff)",
        tags=["integrations"],
        request=shapes.ReplanSerializer,
        responses={200: shapes.IntegrationSerializer},
    )
    @action(detail=True, methods=["post"])
    def replan(self, request, pk=None):
        integration = self.get_object()
        data = _valid(shapes.ReplanSerializer, request)
        context = api_context(request, data["reason"])
        with unchanged_since_read(request, integration, self._tag(integration)):
            plan.replan(integration, data.get("kickoff_on") or context.today, context)
        return self._detail(integration)

    @extend_schema(
        summary="Pause: stop the clock (staff)",
        description="Now, or back-dated: `at` says when it happened and `note` why it is entered late.",
        tags=["integrations"],
        request=shapes.DatedNoteSerializer,
        responses={200: shapes.IntegrationSerializer},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        integration = self.get_object()
        data = _valid(shapes.DatedNoteSerializer, request)
        context = ChangeContext.api(request.user, data["note"], at=data["at"])
        with unchanged_since_read(request, integration, self._tag(integration)):
            plan.pause(integration, context)
        return self._detail(integration)

    @extend_schema(
        summary="Resume: restart the clock (staff)",
        description="Now, or back-dated: `at` says when it happened and `note` why it is entered late.",
        tags=["integrations"],
        request=shapes.DatedNoteSerializer,
        responses={200: shapes.IntegrationSerializer},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        integration = self.get_object()
        data = _valid(shapes.DatedNoteSerializer, request)
        context = ChangeContext.api(request.user, data["note"], at=data["at"])
        with unchanged_since_read(request, integration, self._tag(integration)):
            plan.resume(integration, context)
        return self._detail(integration)

    # --- what hangs off it --------------------------------------------------------------------

    @extend_schema(
        summary="The integration's steps, in roadmap order", tags=["steps"], responses=shapes.StepSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def steps(self, request, pk=None):
        integration = self.get_object()
        steps = IntegrationStep.objects.filter(integration=integration).order_by("position")
        page = self.paginate_queryset(steps)
        context = step_notes_context(request, page)
        return self.get_paginated_response(shapes.StepSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="The integration's history, newest first",
        tags=["integrations"],
        responses=shapes.HistoryRowSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        integration = self.get_object()
        merged = MergedHistory(
            StepChange.objects.filter(step__integration=integration),
            IntegrationEvent.objects.filter(integration=integration),
        )
        page = [_history_row(row, request.user) for row in self.paginate_queryset(merged)]
        return self.get_paginated_response(shapes.HistoryRowSerializer(page, many=True).data)

    @extend_schema(
        summary="The autotests' runs in Jenkins, newest first",
        tags=["autotests"],
        responses=shapes.AutotestRunSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="autotest-runs")
    def autotest_runs(self, request, pk=None):
        integration = self.get_object()
        runs = (
            JenkinsBuild.objects.filter(integration=integration)
            .visible_to(request.user)
            .select_related("job")
            .order_by(F("started_at").desc(nulls_first=True), "-id")
        )
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(shapes.AutotestRunSerializer(page, many=True).data)

    @extend_schema(
        summary="The hand-overs: URLs and checks, sheets, beta testers",
        tags=["hand-overs"],
        responses=shapes.HandoverSummarySerializer,
    )
    @action(detail=True, methods=["get"])
    def handovers(self, request, pk=None):
        integration = self.get_object()
        return Response(shapes.HandoverSummarySerializer(rules.handover_summary(integration)).data)

    @extend_schema(
        summary="Hand over a base URL; the worker checks it",
        description="Saves the URL and answers at once with the pending check (outcome `checking`); "
        "read its `link` (also the Location header) until the outcome is in. The URL counts as "
        "handed over only once its latest check has passed.",
        tags=["hand-overs"],
        request=shapes.UrlCheckRequestSerializer,
        responses={202: shapes.UrlCheckSerializer},
    )
    @action(detail=True, methods=["post"], url_path="handovers/urls")
    def handover_url(self, request, pk=None):
        integration = self.get_object()
        check_if_match(request, self._shown(integration)[1])
        data = _valid(shapes.UrlCheckRequestSerializer, request)
        check = url_check.hand_over_url(
            integration, data["part"], data["environment"], data["url"], by=request.user, source=ChangeSource.API
        )
        body = shapes.UrlCheckSerializer(check).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": request.build_absolute_uri(body["link"])}
        )

    @extend_schema(
        summary="A check of a handed-over URL: pending, or its result",
        tags=["hand-overs"],
        responses={200: shapes.UrlCheckSerializer},
        parameters=[OpenApiParameter("check_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True, methods=["get"], url_path=r"handovers/urls/(?P<check_id>[0-9]{1,18})", url_name="handover-check"
    )
    def handover_check(self, request, pk=None, check_id=None):
        check = url_check.read_check(self.get_object(), check_id)
        if check is None:
            raise NotFound("No such check of this integration.")
        return Response(shapes.UrlCheckSerializer(check).data)

    @extend_schema(
        summary="Hand over the beta testers' TradingView usernames",
        tags=["hand-overs"],
        request=shapes.BetaTestersSerializer,
        responses={200: shapes.BetaTestersSerializer},
    )
    @action(detail=True, methods=["put"], url_path="handovers/beta-testers")
    def handover_beta_testers(self, request, pk=None):
        integration = self.get_object()
        data = _valid(shapes.BetaTestersSerializer, request)
        try:
            with unchanged_since_read(request, integration, self._tag(integration)):
                names = records.set_beta_testers(
                    integration, "\n".join(data["usernames"]), by=request.user, source=ChangeSource.API
                )
        except DjangoValidationError as error:
            raise _renamed(error, {"beta_testers": "usernames"}) from None
        return Response({"usernames": names})

    @extend_schema(
        summary="Hand over a part's authorisation sheet (never secrets)",
        tags=["hand-overs"],
        request=shapes.AuthorisationSheetSerializer,
        responses={200: shapes.AuthorisationSheetSerializer},
        parameters=[OpenApiParameter("part", str, OpenApiParameter.PATH, enum=Part.values)],
    )
    @action(detail=True, methods=["put"], url_path=r"handovers/sheets/(?P<part>[^/.]+)")
    def handover_sheet(self, request, pk=None, part=None):
        integration = self.get_object()
        if part not in Part.values:
            raise NotFound(f"No part {part[:20]!r}; use data or trading.")
        data = _valid(shapes.AuthorisationSheetSerializer, request)
        with unchanged_since_read(request, integration, self._tag(integration)):
            sheet = records.save_auth_sheet(integration, part, dict(data), by=request.user, source=ChangeSource.API)
        return Response(shapes.AuthorisationSheetSerializer(sheet).data)


def step_notes_context(request, steps) -> dict:
    """What a step's serializer needs to show its notes to the caller: all of them to staff; to a
    partner's user, those the partner reads (``step_notes_seen_by_partner``)."""
    if sees_everything(request.user):
        return {"request": request, "staff": True}
    return {"request": request, "notes_seen": step_notes_seen_by_partner(steps)}


def _renamed(error: DjangoValidationError, names: dict) -> ValidationError:
    """A Django ValidationError of the domain as DRF's, its field names as the API calls them."""
    fields = validation_fields(error)
    return ValidationError({names.get(name, name): messages for name, messages in fields.items()})


# --- steps ------------------------------------------------------------------------------------

STEP_ACTIONS = ("start", "complete", "block", "unblock", "reopen", "not_applicable", "verify")


def _step_action(name: str):
    """The viewset method for one step action: ``POST /steps/{id}/<name>/``."""

    def act(self, request, pk=None):
        step = self.get_object()
        data = _valid(shapes.DatedNoteSerializer, request)
        context = ChangeContext.api(request.user, data["note"], at=data["at"])
        with unchanged_since_read(request, step, lambda: self._shown(request, step.pk)[1]):
            apply_action(step, name, context)
        return self._detail(request, step.pk)

    # Named before @action records the method's name in its route.
    act.__name__ = act.__qualname__ = name
    act = action(detail=True, methods=["post"], url_path=name, url_name=name.replace("_", "-"))(act)
    return extend_schema(
        summary=f"{name.replace('_', ' ').capitalize()} the step",
        description="Through the same rules as the pages; a refusal answers with its code. Now, or back-dated: "
        "`at` says when it happened and `note` why it is entered late.",
        tags=["steps"],
        request=shapes.DatedNoteSerializer,
        responses={200: shapes.StepDetailSerializer},
    )(act)


@extend_schema_view(retrieve=extend_schema(summary="A step, with the actions you may take now", tags=["steps"]))
class StepViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = shapes.StepDetailSerializer
    etag_actions = ("retrieve",)

    def get_queryset(self):
        return IntegrationStep.objects.select_related("integration__partner").visible_to(self.request.user)

    def _shown(self, request, pk) -> tuple[dict, str]:
        """The step's detail, with the actions the caller may take now, and its ETag."""
        step = self.get_queryset().get(pk=pk)
        integration = step.integration
        steps = [step if s.pk == step.pk else s for s in integration.steps.order_by("position")]
        for s in steps:
            s.integration = integration
        context = {**step_notes_context(request, [step]), "actions": step_actions(step, request.user, steps)}
        data = shapes.StepDetailSerializer(step, context=context).data
        return data, etag_of(data)

    def _detail(self, request, pk) -> Response:
        data, tag = self._shown(request, pk)
        return tagged(Response(data), tag)

    def retrieve(self, request, *args, **kwargs):
        data, tag = self._shown(request, self.get_object().pk)
        return not_modified(request, tag) or tagged(Response(data), tag)

    @extend_schema(
        summary="The step's Jira issues and the bugs of its testing round",
        tags=["steps"],
        responses=shapes.StepJiraSerializer,
    )
    @action(detail=True, methods=["get"])
    def jira(self, request, pk=None):
        step = self.get_object()
        issues = JiraIssue.objects.filter(integration_id=step.integration_id, deleted=False).order_by("key")
        tasks = issues.filter(step=step, is_bug=False)
        held = Q(step=step)
        if step.held_by_ux_bugs:
            held |= Q(affects_ux=True)
        bugs = issues.filter(held, is_bug=True)
        return Response(
            {
                "issues": shapes.JiraIssueSerializer(tasks, many=True).data,
                "bugs": shapes.JiraIssueSerializer(bugs, many=True).data,
            }
        )

    @extend_schema(
        summary="The step's comments you may read, oldest first, in pages; or post one",
        description="A partner's user reads and writes only public comments; internal ones are TradingView's. "
        "Pages as every list: `page` and `page_size`, with `next` and `previous` links.",
        tags=["steps"],
        request=shapes.CommentInputSerializer,
        responses={200: shapes.CommentSerializer(many=True), 201: shapes.CommentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        step = self.get_object()
        if request.method == "POST":
            data = _valid(shapes.CommentInputSerializer, request)
            comment = post_comment(step, request.user, data["body"], data["internal"], source=ChangeSource.API)
            return Response(shapes.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(comments_seen([step], request.user))
        return self.get_paginated_response(shapes.CommentSerializer(page, many=True).data)

    start = _step_action("start")
    complete = _step_action("complete")
    block = _step_action("block")
    unblock = _step_action("unblock")
    reopen = _step_action("reopen")
    not_applicable = _step_action("not_applicable")
    verify = _step_action("verify")


# --- the outbox -------------------------------------------------------------------------------


class OutboxQuery(serializers.Serializer):
    state = serializers.ChoiceField([], required=False)
    kind = serializers.ChoiceField([], required=False)
    integration = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Looked up by name: notifications builds on integrations, never the other way.
        model = outbox_model()
        self.fields["state"].choices = model.State.choices
        self.fields["kind"].choices = model.Kind.choices


@extend_schema_view(
    list=extend_schema(summary="Slack and e-mail messages (staff)", tags=["outbox"], parameters=[OutboxQuery])
)
class OutboxViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = shapes.OutboxMessageSerializer
    permission_classes = [SignedIn, StaffOnly]

    def get_queryset(self):
        query = OutboxQuery(data={k: v for k, v in self.request.query_params.items() if k in OutboxQuery().fields})
        query.is_valid(raise_exception=True)
        filters = {name: value for name, value in query.validated_data.items()}
        if "integration" in filters:
            filters["integration_id"] = filters.pop("integration")
        return outbox_model().objects.filter(**filters).order_by("-created_at", "-id")


# --- anything else under /api/ ----------------------------------------------------------------


class NotFoundView(APIView):
    """Any other path under /api/: a JSON 404, like every other answer of the API."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    schema = None

    def handle(self, request, *args, **kwargs):
        raise Http404

    get = post = put = patch = delete = head = options = handle
