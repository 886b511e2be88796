"""The portfolio's rows and filters, as the dashboard, its CSV export and the API read them.

``Filters`` is what the query string asks for; ``filter_portfolio`` is the one place those filters
become a queryset, so the page, the CSV and the API's integrations list give the same rows for the
same parameters. The rows come from the integrations' stored standing columns and cost a fixed
number of SQL queries whatever the number of integrations. The PM's queue (their actionable
TradingView steps) is read here too.
"""

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import urlencode

from integrations.clock import today_for
from integrations.jira.models import JiraConnection, JiraIssue, StatusCategory
from integrations.models import Integration, IntegrationStep
from integrations.read_models.compiled import CompiledQuery
from integrations.read_models.headline import (
    Ending,
    LaunchWindow,
    cancel_note_column,
    ending,
    last_activity,
    launch_window,
    window_weeks_column,
)
from integrations.read_models.outbox import outbox_model
from integrations.standing import standing
from integrations.stored_standing import (
    HEALTH_DEFINITION,
    Health,
    is_blocked,
    is_blocked_among_many,
    is_due_by,
    is_late,
    stored_health,
)
from integrations.text import ago_text, day_month_text, day_text, moment_text
from integrations.visibility import partner_of, sees_everything
from roadmap.models import Side
from roadmap.standing import actionable_steps


def integration_url(pk: int) -> str:
    """The integration page's address: reversed once per URL configuration, then the id put in (a page
    reversed it for each of its 50 rows: a tenth of the rows' CPU time)."""
    head, _, tail = _integration_url_form(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix()).rpartition(ANY_PK)
    return f"{head}{pk}{tail}"


ANY_PK = "2147483647"  # stands for the id in the reversed address (its last occurrence)


@functools.lru_cache(maxsize=16)
def _integration_url_form(root_urlconf, urlconf, script_prefix) -> str:
    """``integration-page`` reversed for ``ANY_PK``; the arguments are what ``reverse`` reads, the cache's key."""
    return reverse("integration-page", args=[int(ANY_PK)])


# --- filters: one place, for the page, its counts' links, the CSV and the API ---------------------

# sort key -> the column ordered on (then by partner); "-key" sorts descending. Empty values last.
SORTS = {
    "partner": "partner__name",
    "due": "next_deadline_at",
    "forecast": "forecast_launch_on",
    "p85": "forecast_p85",  # the launch date the portfolio's history gives 85 % odds (integrations.forecast)
    "slip": "slip",
    "health": "health",  # late, at risk, on track (stored_standing.health_of): the worst first
    "bugs": "open_bugs",
    "updated": "updated_at",  # the row's own changes (the API's change detection), not activity
    "activity": "last_activity",  # the last change a person or Jira made: oldest first finds the quiet ones
}
STATE_CHOICES = [("running", "Running (active or paused)"), *Integration.State.choices, ("all", "All")]
SIDE_CHOICES = Integration.BallSide.choices
# The labels a row shows for its ball and state, read once: ``get_ball_side_display()`` looks through the
# field's choices on every call, some 10 microseconds, twice a row.
SIDE_LABELS = dict(SIDE_CHOICES)
STATE_LABELS = dict(Integration.State.choices)


def _week_bounds(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def _month_bounds(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _blocked():
    return is_blocked(Integration)


def _late(now):
    return is_late(now)


@dataclass
class Filters:
    """The filters as read from the query string; ``query()`` gives them back for links."""

    pm: str = ""
    side: str = ""
    overdue: bool = False
    blocked: bool = False
    due: str = ""  # "week"
    launch: str = ""  # "month"
    data_type: str = ""
    parts: str = ""
    state: str = "running"
    q: str = ""
    sort: str = "due"

    @classmethod
    def from_request(cls, params) -> "Filters":
        def pick(name, allowed, default=""):
            value = params.get(name, default)
            return value if value in allowed else default

        sort = params.get("sort", "due")
        if sort.lstrip("-") not in SORTS:
            sort = "due"
        pm = params.get("pm", "")
        return cls(
            pm=pm if pm == "me" or pm == "none" or pm.isdigit() else "",
            side=pick("side", dict(SIDE_CHOICES)),
            overdue=params.get("overdue") == "1",
            blocked=params.get("blocked") == "1",
            due=pick("due", {"week"}),
            launch=pick("launch", {"month"}),
            data_type=pick("data_type", dict(Integration.DataType.choices)),
            parts=pick("parts", dict(Integration.Parts.choices)),
            state=pick("state", dict(STATE_CHOICES), "running"),
            q=params.get("q", "").strip()[:100],
            sort=sort,
        )

    def query(self, **changes) -> str:
        """The query string for these filters with ``changes`` applied (defaults left out)."""
        values = {**self.__dict__, **changes}
        pairs = {}
        for name, value in values.items():
            default = getattr(Filters, name)
            if value == default or value in ("", False, None):
                continue
            pairs[name] = "1" if value is True else value
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return self.query(sort="due") != ""

    @property
    def every_running(self) -> bool:
        """Whether these filters keep every running integration (only the sort may differ): their
        rows are as many as ``portfolio_counts``' ``running``."""
        return not self.active and self.state == "running"


@functools.cache
def _columns() -> dict:
    """The columns ``filter_portfolio`` annotates, by name.

    Built once per process: making the seven expressions (each subquery's filters resolved) cost about
    as much CPU as a page's rows. ``annotate()`` resolves copies of them, never these."""
    return {
        "open_bugs": _open_bugs_column(),
        "messages_stuck": _messages_stuck_column(),
        "slip": F("delay_tradingview_days") + F("delay_partner_days") + F("delay_both_days"),
        "blocked": _blocked(),
        "last_activity": last_activity(),
        "launch_window_weeks": window_weeks_column(),
        "cancel_note": cancel_note_column(),
    }


def filter_portfolio(filters: Filters, user, now=None, columns=None):
    """Integrations matching ``filters``, sorted, with ``open_bugs``, ``messages_stuck``, ``slip``, ``blocked``,
    ``last_activity``, ``launch_window_weeks`` and ``cancel_note`` annotated; or, given ``columns``, only
    those (and the one the sort is on): the timeline reads two of them, and the others were half its query;
    the API's list shows none of them (``columns=()``).

    The page, its CSV and the API's integrations list call this: the same parameters give the same rows.
    The annotations are correlated subqueries, not joins: a page is cut on the integration table's stored
    columns first (``PortfolioPaginator``) and they are read for its rows only.
    """
    now = now or timezone.now()
    today = today_for(now=now)
    qs = _annotated(_column_names(filters, columns)).all()
    if filters.state == "running":
        qs = qs.running()
    elif filters.state != "all":
        qs = qs.filter(state=filters.state)
    if filters.pm == "me":
        qs = qs.filter(tv_pm=user)
    elif filters.pm == "none":
        qs = qs.filter(tv_pm__isnull=True)
    elif filters.pm:
        qs = qs.filter(tv_pm_id=int(filters.pm))
    if filters.side:
        qs = qs.filter(ball_side=filters.side)
    if filters.overdue:
        qs = qs.filter(_late(now))
    if filters.blocked:
        qs = qs.filter(is_blocked_among_many(Integration))
    if filters.due == "week":
        qs = qs.filter(is_due_by(now, _week_bounds(today)[1]))
    if filters.launch == "month":
        qs = qs.filter(forecast_launch_on__range=_month_bounds(today))
    if filters.data_type:
        qs = qs.filter(data_types__contains=filters.data_type)
    if filters.parts:
        qs = qs.filter(parts=filters.parts)
    if filters.q:
        qs = qs.filter(
            Q(partner__name__icontains=filters.q)
            | Q(name__icontains=filters.q)
            | Q(jira_project_key__iexact=filters.q)
            | Q(jira_epic_key__iexact=filters.q)
        )
    column = F(SORTS[filters.sort.lstrip("-")])
    first = column.desc(nulls_last=True) if filters.sort.startswith("-") else column.asc(nulls_last=True)
    return qs.order_by(first, "partner__name", "name", "pk")


def _column_names(filters: Filters, columns) -> frozenset:
    """The ``_columns`` ``filter_portfolio`` annotates: those asked for (all by default) and the one sorted on."""
    sorted_on = SORTS[filters.sort.lstrip("-")]
    return frozenset(_columns().keys() if columns is None else {*columns, sorted_on} & _columns().keys())


@functools.lru_cache(maxsize=32)
def _annotated(names: frozenset):
    """Integrations with their related rows and the ``_columns`` in ``names`` (in ``_columns``' order), made
    once per set of names: resolving the subqueries against the integration table cost a millisecond a
    page. Never evaluated itself; ``filter_portfolio`` filters a copy (``all()``)."""
    columns = {name: value for name, value in _columns().items() if name in names}
    return Integration.objects.select_related("partner", "current_step", "tv_pm").annotate(**columns)


def _count_of(rows) -> Coalesce:
    """How many of ``rows`` (filtered on ``OuterRef("pk")``) each integration has, as a correlated subquery."""
    counted = rows.order_by().values("integration").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _open_bugs_column() -> Coalesce:
    bugs = JiraIssue.objects.filter(integration=OuterRef("pk"), is_bug=True, deleted=False).exclude(
        status_category=StatusCategory.DONE
    )
    return _count_of(bugs)


def _messages_stuck_column() -> Coalesce:
    return _count_of(outbox_model().objects.filter(integration=OuterRef("pk"), state__in=["failed", "waiting"]))


class PortfolioRows:
    """``filter_portfolio(filters, user, now, columns)`` narrowed to what ``user`` may see (``visible_to``), as
    ``PortfolioPaginator`` reads it: counted, its page's ids cut, then those rows read.

    The count's and the ids' SQL is written once per process (``_written``) for each query that reads
    neither the time (the late, due-this-week and launching-this-month filters) nor a search (its
    ``LIKE`` pattern): the same filters, visibility and page give the same SQL and parameters, and
    making and compiling the queryset again took longer than the database's answer. The rows of a
    page are read by id with SQL written once per page size (``CompiledQuery``). Anything else is
    made and compiled as a queryset each time, as before.
    """

    def __init__(self, filters: Filters, user, now=None, columns=None, related=("partner", "current_step", "tv_pm")):
        self.filters, self.user, self.now, self.columns, self.related = filters, user, now, columns, tuple(related)
        self.names = _column_names(filters, columns)
        self.key = self._key()

    @functools.cached_property
    def queryset(self):
        """The rows as a queryset, made and compiled (what the written SQL stands for)."""
        integrations = filter_portfolio(self.filters, self.user, self.now, self.columns)
        if self.related != ("partner", "current_step", "tv_pm"):
            integrations = integrations.select_related(None).select_related(*self.related)
        return integrations.visible_to(self.user)

    def _key(self) -> tuple | None:
        """What the count's and the ids' SQL depends on, when it depends on nothing else; None otherwise."""
        f = self.filters
        if f.q or f.overdue or f.due or f.launch:
            return None  # the time, or a LIKE pattern, in the parameters
        if sees_everything(self.user):
            seen = "all"
        else:
            partner = partner_of(self.user)
            if partner is None:
                return None  # sees nothing: no SQL at all
            seen = partner.pk
        me = self.user.pk if f.pm == "me" else None
        return (connection.alias, connection.vendor, tuple(vars(f).items()), seen, me, self.names)

    def _sql(self, cut: tuple | None) -> tuple[str, list]:
        """The SQL and parameters of the count (``cut`` None) or of the ids from ``cut[0]`` to ``cut[1]``."""
        key = None if self.key is None else (*self.key, cut)
        written = _WRITTEN.get(key) if key else None
        if written is None:
            ids = self.queryset.values_list("pk", flat=True)
            if cut is None:
                sql, params = ids.order_by().query.sql_with_params()
                written = (f"SELECT COUNT(*) FROM ({sql}) {connection.ops.quote_name('counted')}", list(params))
            else:
                written = ids[cut[0] : cut[1]].query.sql_with_params()
            if key:
                if len(_WRITTEN) >= WRITTEN_MAX:
                    _WRITTEN.clear()
                _WRITTEN[key] = written
        return written

    def count(self) -> int:
        try:
            sql = self._sql(None)
        except EmptyResultSet:  # a user who sees nothing
            return 0
        with connection.cursor() as cursor:
            cursor.execute(*sql)
            return cursor.fetchone()[0]

    def ids(self, bottom: int, top: int) -> list[int]:
        try:
            sql = self._sql((bottom, top))
        except EmptyResultSet:
            return []
        with connection.cursor() as cursor:
            cursor.execute(*sql)
            return [row[0] for row in cursor.fetchall()]

    def rows_of(self, ids) -> dict:
        """The integrations of ``ids`` (a page's, already filtered) by id, as the queryset gives them, unsorted."""
        rows = _rows_by_id(self.names, self.related, len(ids)).rows(*ids)
        return {row.pk: row for row in rows}


# The count's and the ids' SQL by ``PortfolioRows._key`` and cut; emptied when full (a process sees few shapes).
_WRITTEN: dict = {}
WRITTEN_MAX = 512


@functools.lru_cache(maxsize=256)
def _rows_by_id(names: frozenset, related: tuple, size: int) -> CompiledQuery:
    """``size`` integrations by id with the ``names`` columns and the ``related`` rows, unsorted, as SQL written once."""
    stand_ins = [-n for n in range(1, size + 1)]  # no integration has a negative id
    return CompiledQuery(
        lambda *ids: _annotated(names).select_related(None).select_related(*related).filter(pk__in=ids).order_by(),
        stand_ins,
    )


class PortfolioPaginator(Paginator):
    """Pages of ``filter_portfolio``: the page's ids are cut on the integration table first, then its rows read.

    A plain slice would have the database compute every row's bugs, messages and last activity before
    sorting and cutting 50 out of 10,000. Here one query filters, sorts and limits on the integration's
    own columns (the annotations only when the sort is on one of them) and gives the page's ids; a
    second reads those rows with their annotations, unsorted, and they are put in the ids' order (to
    sort a query Django hashes every column it selects, here the annotations' subqueries: under the
    profiler that was a tenth of the page's ORM work).
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if isinstance(self.object_list, PortfolioRows):
            ids = self.object_list.ids(bottom, top)
        else:
            ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        found = self.rows_of(ids) if ids else {}
        return self._get_page([found[pk] for pk in ids if pk in found], number, self)

    def rows_of(self, ids) -> dict:
        """The page's rows by id, read unsorted: the ids' order is the page's."""
        if isinstance(self.object_list, PortfolioRows):
            return self.object_list.rows_of(ids)
        return {row.pk: row for row in self.object_list.order_by().filter(pk__in=ids)}


def portfolio_counts(user, now=None) -> dict:
    """Running integrations, and of them late, blocked, due this week and launching this month: one query.

    Each count of the running ones is a subquery of its own, which reads only its own range of an index
    (the active ones whose deadline has ended, this month's forecasts, the blocked steps): one pass over
    every running integration testing the four conditions on each was most of the page's database work
    at 10,000 integrations."""
    now = now or timezone.now()
    today = today_for(now=now)
    running = Integration.objects.running()
    return _count_at_once(
        running,
        late=running.filter(_late(now)),
        blocked=running.filter(is_blocked_among_many(Integration)),
        due_week=running.filter(is_due_by(now, _week_bounds(today)[1])),
        launch_month=running.filter(forecast_launch_on__range=_month_bounds(today)),
    )


def _count_at_once(running, **counted) -> dict:
    """How many rows ``running`` and each of ``counted`` (querysets) have, by name, in one SQL statement:
    ``SELECT COUNT(*) AS running, (SELECT COUNT(*) FROM (<late>)) AS late, ... FROM (<running>)``."""
    quote = connection.ops.quote_name
    selects, params = [], []
    for name, rows in counted.items():
        sql, more = rows.order_by().values("pk").query.sql_with_params()
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) {quote(name + '_rows')}) AS {quote(name)}")
        params += more
    sql, more = running.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) AS {quote('running')}, {', '.join(selects)} FROM ({sql}) running_rows", [*params, *more]
        )
        return dict(zip(["running", *counted], cursor.fetchone(), strict=True))


def health() -> list[dict]:
    """The Jira and Slack lines at the top of the portfolio: what is off or failing."""
    lines = []
    if not settings.JIRA_ENABLED:
        # The webhook moves steps without the pull: say which half is off, not that Jira is.
        text = (
            "Jira's pull is off: steps move only with Jira's webhook deliveries."
            if settings.JIRA_WEBHOOK_SECRET
            else "Jira sync is off: steps do not move with Jira issues."
        )
        lines.append({"level": "muted", "text": text})
    else:
        connection = next(iter(_JIRA_CONNECTION.rows()), None)
        if connection and connection.is_failing:
            lines.append(
                {
                    "level": "late",
                    "text": f"Jira sync failing since {moment_text(connection.failing_since)} "
                    f"({connection.consecutive_failures} tries): {connection.failure_reason[:200]}",
                }
            )
    failed = sum(_FAILED_MESSAGES.rows())
    if not settings.SLACK_ENABLED:
        lines.append({"level": "muted", "text": "Slack is not configured: no messages are sent."})
    if failed:
        lines.append({"level": "late", "text": f"{failed} Slack/e-mail message{'s' if failed != 1 else ''} failed."})
    return lines


# The health line's and the PM filter's queries, the same on every page: their SQL written once per process.
_JIRA_CONNECTION = CompiledQuery(lambda: JiraConnection.objects.filter(pk=1).order_by("pk")[:1])
_FAILED_MESSAGES = CompiledQuery(  # one row, the count, or none when no message failed
    lambda: (
        outbox_model()
        .objects.filter(state="failed")
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
)
_PM_CHOICES = CompiledQuery(
    lambda: (
        get_user_model()
        .objects.filter(Exists(Integration.objects.filter(tv_pm=OuterRef("pk"))))
        .order_by("first_name", "username")
    )
)


@dataclass
class Row:
    """What one line of the portfolio shows, from the stored standing and ``filter_portfolio``'s annotations (no
    queries). The dates and marks are written here once, so the row's tag (``templatetags.portfolio``) only
    places them: at 50 rows a page, the template's own lookups and date filters cost more than the page's queries."""

    integration: Integration
    url: str
    days_late: int
    window: LaunchWindow | None  # the launch window as the plan now stands (``headline.launch_window``)
    past_window_days: int  # forecast launch after the window's end, the plan's launch date
    ending: Ending | None  # launched or cancelled: when, and why
    health: Health | None = None  # late, at risk, on track now (``Integration.health_mark``)
    pm: str = ""  # the TradingView PM's name
    ended_on: str = ""
    next_due: str = ""  # "Fri 27 Nov 2026"
    due_today: bool = False
    forecast: str = ""
    planned: str = ""  # the planned launch, "27 Nov"
    window_dates: str = ""  # "13 Nov – 20 Nov"
    baseline: str = ""  # the baseline launch when a re-plan moved it, "27 Nov"
    slip_vs_baseline: int = 0
    p85: str = ""
    p50: str = ""
    activity_at: str = ""  # ISO, for <time datetime>
    activity: str = ""  # "27 Nov 2026, 21:05"
    activity_ago: str = ""  # "3 days ago", "just now"

    @classmethod
    def of(cls, integration: Integration, now, today: date | None = None) -> "Row":
        i = integration
        window = launch_window(i.planned_launch_on, getattr(i, "launch_window_weeks", None))
        ended = ending(i, note=getattr(i, "cancel_note", None))
        activity = getattr(i, "last_activity", None)
        activity = timezone.localtime(activity) if activity else None  # as the template's date filter reads it
        return cls(
            integration=i,
            url=integration_url(i.pk),
            days_late=i.days_overdue(now),
            window=window,
            past_window_days=window.days_past(i.forecast_launch_on) if window else 0,
            ending=ended,
            health=stored_health(i, now),
            pm=(i.tv_pm.get_full_name() or i.tv_pm.get_username()) if i.tv_pm else "",
            ended_on=day_text(ended.on) if ended else "",
            next_due=day_text(i.next_due_on, weekday=True),
            due_today=i.next_due_on is not None and i.next_due_on == (today or today_for(now=now)),
            forecast=day_text(i.forecast_launch_on),
            planned=day_month_text(i.planned_launch_on),
            window_dates=f"{day_month_text(window.start)} – {day_month_text(window.end)}" if window else "",
            baseline=day_month_text(i.baseline_launch_on) if i.baseline_launch_on != i.planned_launch_on else "",
            slip_vs_baseline=i.slip_vs_baseline_days if i.forecast_launch_on else 0,
            p85=day_text(i.forecast_p85) if i.forecast_p85 and i.is_running else "",
            p50=day_month_text(i.forecast_p50),
            activity_at=activity.isoformat() if activity else "",  # dateformat's "c", without its set-up
            activity=moment_text(activity),
            activity_ago=ago_text(activity, now),
        )

    @property
    def health_definition(self) -> str:
        return HEALTH_DEFINITION[self.health] if self.health else ""

    @property
    def kick_off_url(self) -> str:
        """Where a PM kicks a new integration off: the admin's operation."""
        return reverse("admin:integrations_integration_operation", args=[self.integration.pk, "kick_off"])


def pm_choices():
    """The PMs of some integration, for the filter form: each user probes the integrations' PM index once,
    instead of a DISTINCT over a join with every integration (27 ms of SQLite at 10,000 integrations)."""
    return [(str(u.pk), u.get_full_name() or u.get_username()) for u in _PM_CHOICES.rows()]


CSV_COLUMNS = [
    "partner",
    "integration",
    "state",
    "pm",
    "step",
    "ball",
    "next_due",
    "working_days_late",
    "planned_launch",
    "forecast_launch",
    "baseline_launch",
    "slip_tradingview_working_days",
    "slip_partner_working_days",
    "slip_both_working_days",
    "open_bugs",
    "blocked",
    "updated_at",
    "last_activity",
]


# A spreadsheet runs a cell that begins with one of these as a formula (=HYPERLINK(...), +1, @SUM).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` as a CSV cell no spreadsheet runs: text that would start a formula gets a leading
    apostrophe (shown as text, not computed). Numbers and dates are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(i: Integration, now) -> list:
    """One integration's CSV values, in ``CSV_COLUMNS`` order (``i`` comes from ``filter_portfolio``);
    text that a spreadsheet would run as a formula is neutralised (partners name themselves)."""
    return [spreadsheet_safe(value) for value in _csv_values(i, now)]


def _csv_values(i: Integration, now) -> list:
    return [
        i.partner.name,
        i.name,
        i.state,
        (i.tv_pm.get_username() if i.tv_pm else ""),
        (str(i.current_step) if i.current_step else ""),
        i.ball_side,
        i.next_due_on or "",
        i.days_overdue(now),
        i.planned_launch_on or "",
        i.forecast_launch_on or "",
        i.baseline_launch_on or "",
        i.delay_tradingview_days,
        i.delay_partner_days,
        i.delay_both_days,
        i.open_bugs,
        "yes" if i.blocked else "no",
        timezone.localtime(i.updated_at).isoformat(timespec="seconds"),
        timezone.localtime(i.last_activity).isoformat(timespec="seconds"),
    ]


# --- my queue -------------------------------------------------------------------------------


@dataclass
class QueueItem:
    step: IntegrationStep
    integration: Integration
    days_late: int
    url: str
    done: bool = False
    refusal: str = ""


def my_queue_items(user, now=None) -> list[QueueItem]:
    """The PM's actionable TradingView steps on active integrations, the earliest deadline first.

    A fixed number of queries whatever the number of integrations: the integrations, their steps, their events.
    """
    integrations = (
        Integration.objects.active()
        .filter(tv_pm=user)
        .select_related("partner")
        .prefetch_related(Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")), "events")
    )
    items = []
    for integration in integrations:
        steps = list(integration.steps.all())
        now_standing = standing(integration, now, steps=steps, integration_events=integration.events.all())
        for step in actionable_steps(steps):
            if step.side != Side.TRADINGVIEW:
                continue
            step.integration = integration  # no query for step.integration in the template
            late = now_standing.days_overdue(step)
            items.append(QueueItem(step, integration, late, integration_url(integration.pk)))
    items.sort(key=lambda item: (item.step.due_date or date.max, item.integration.partner.name, item.step.position))
    return items
