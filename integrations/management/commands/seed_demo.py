"""``manage.py seed_demo``: a believable demo portfolio and a demo staff login.

Twelve fictional partners at different points of the roadmap: on time, late on either side,
blocked, paused, one launched. Each is a story played through the same services the product uses,
dated in the past: steps are finished on working days in the owning side's time zone, a step
starts when it becomes actionable, and nothing happens to a paused integration after its pause.
So every figure (deadlines, overdue days, forecast launch, delay split) is computed as for real
data. Running it again changes nothing; ``--reset`` replaces the demo partners.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from integrations import plan, steps
from integrations.clock import today_for
from integrations.context import ChangeContext
from integrations.handovers.demo import record_demo_handovers
from integrations.jenkins.demo import DEMO_FAILURE, DEMO_SUCCESS, link_demo_jobs, record_demo_run
from integrations.jenkins.rules import CONFIGURATION, PASSING
from integrations.models import ChangeSource, Integration, Partner, PartnerContact, PartnerUser, TeamMember
from roadmap import standing as rules
from roadmap.calendars import country_of_zone
from roadmap.default_template import KEY
from roadmap.models import RoadmapTemplate, Side, StepStatus
from roadmap.schedule import add_working_days, is_working_day

DEMO_NOTE = "Demo partner created by seed_demo."
# The demo partner whose team gets a login (settings.DEMO_PARTNER_USERNAME).
DEMO_PARTNER = "Dunmore FX"


@dataclass
class DemoStory:
    name: str
    kind: str
    time_zone: str
    parts: str
    data_types: list
    data_source: str
    weeks_since_kickoff: int
    settled: int  # steps settled, in roadmap order (those that do not apply count)
    # Step code -> working days after its deadline it was finished; the others are finished a
    # working day early.
    late: dict = field(default_factory=dict)
    blocked: str = ""  # why the step it is on is blocked
    paused_days_ago: int | None = None
    team: tuple = (1, 2, 2)  # PMs, developers, QA


PORTFOLIO = [
    DemoStory("Aldermoor Securities", "broker", "Europe/London", "both", ["stocks", "cfd"], "exchange_mapping", 1, 2),
    DemoStory("Bluefin Exchange", "exchange", "Asia/Singapore", "both", ["crypto"], "own_feed", 3, 2),
    DemoStory("Corvid Capital", "broker", "America/New_York", "trading", [], "", 6, 4, late={"passing-autotests": 7}),
    DemoStory("Dunmore FX", "broker", "Europe/Dublin", "both", ["forex", "cfd"], "own_feed", 5, 3, team=(1, 1, 0)),
    DemoStory(
        "Elbrus Markets",
        "broker",
        "Europe/Moscow",
        "data",
        ["stocks", "futures"],
        "exchange_mapping",
        6,
        5,
        blocked="The partner's only developer is on leave until next week.",
    ),
    DemoStory(
        "Fjord Trading",
        "broker",
        "Europe/Oslo",
        "both",
        ["stocks", "indices"],
        "exchange_mapping",
        7,
        7,
        late={"sandbox-access": 3},
    ),
    DemoStory(
        "Galena Digital",
        "exchange",
        "Europe/Zurich",
        "both",
        ["crypto"],
        "own_feed",
        8,
        8,
        late={"production-deployment": 6},
    ),
    DemoStory(
        "Halcyon Brokerage",
        "broker",
        "Australia/Sydney",
        "trading",
        [],
        "",
        8,
        9,
        blocked="Smoke-test bug BRK-42 needs a fix in the partner's order ticket.",
    ),
    DemoStory(
        "Ironwood Futures",
        "broker",
        "America/Chicago",
        "both",
        ["futures"],
        "exchange_mapping",
        6,
        4,
        paused_days_ago=12,
    ),
    # From here on past final testing's two rounds (steps 11-14 of the newest roadmap).
    DemoStory("Juniper Prime", "broker", "Asia/Tokyo", "both", ["stocks", "bonds"], "exchange_mapping", 10, 15),
    DemoStory(
        "Kestrel Coin", "exchange", "Asia/Dubai", "data", ["crypto"], "own_feed", 11, 16, late={"beta-testing": 3}
    ),
    DemoStory("Lumen Markets", "broker", "America/Sao_Paulo", "both", ["stocks"], "exchange_mapping", 14, 17),
]


def demo_login():
    """The embedded demo's PM login (a superuser with the published demo password), made once."""
    user, created = get_user_model().objects.get_or_create(
        username=settings.DEMO_USERNAME,
        defaults={"is_staff": True, "is_superuser": True, "first_name": "Demo", "last_name": "PM"},
    )
    if created:
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
    return user


class Command(BaseCommand):
    help = "Load a demo portfolio of partner integrations and a demo staff login."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo partners first.")
        parser.add_argument(
            "--allow-outside-embedded",
            action="store_true",
            help="Run even without EMBEDDED=1; the demo login's password is public.",
        )

    def handle(self, *args, reset=False, allow_outside_embedded=False, **options):
        # The demo login is a superuser with a published password: never on a real deployment
        # by accident.
        if not settings.EMBEDDED:
            if not allow_outside_embedded:
                raise CommandError(
                    f"seed_demo creates the superuser {settings.DEMO_USERNAME!r} with a published password, "
                    "so it runs only in the embedded demo (EMBEDDED=1, as `make run` sets). To load it "
                    "here anyway, pass --allow-outside-embedded."
                )
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: EMBEDDED is off; the demo login {settings.DEMO_USERNAME!r} and its password "
                    "are public. Do not run this on a reachable deployment."
                )
            )
        user = self.demo_user()
        if reset:
            demo = Partner.objects.filter(notes=DEMO_NOTE)
            Integration.objects.filter(partner__in=demo).delete()
            demo.delete()
        template = RoadmapTemplate.latest(KEY)
        created = 0
        for n, demo in enumerate(PORTFOLIO, start=1):
            if Partner.objects.filter(name=demo.name).exists():
                continue
            with transaction.atomic():
                self.create(demo, template, user)
            created += 1
            self.stdout.write(f"  [{n}/{len(PORTFOLIO)}] {demo.name}")
        self.stdout.write(
            self.style.SUCCESS(f"Demo portfolio: {created} partner(s) added, {len(PORTFOLIO) - created} already there.")
        )
        self.stdout.write(f"Demo login: {settings.DEMO_USERNAME} / {settings.DEMO_PASSWORD}")
        partner_user = self.demo_partner_user()
        if partner_user is not None:
            self.stdout.write(
                f"Partner login: {partner_user.get_username()} / {settings.DEMO_PASSWORD} "
                f"(the stage page of {DEMO_PARTNER})"
            )

    def demo_user(self):
        User = get_user_model()
        user = demo_login()
        for username, first, last in [("bob", "Bob", "Tech"), ("carol", "Carol", "Business")]:
            User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "first_name": first, "last_name": last}
            )
        return user

    def demo_partner_user(self):
        """A login of one demo partner's team, to see the product as a partner sees it."""
        partner = Partner.objects.filter(name=DEMO_PARTNER, notes=DEMO_NOTE).first()
        if partner is None:
            return None
        user, created = get_user_model().objects.get_or_create(
            username=settings.DEMO_PARTNER_USERNAME,
            defaults={"first_name": "Dara", "last_name": "Dunmore", "email": "dara@dunmore.example"},
        )
        if created:
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
        PartnerUser.objects.update_or_create(user=user, defaults={"partner": partner})
        return user

    def create(self, demo: DemoStory, template, user):
        User = get_user_model()
        today = today_for()
        partner = Partner.objects.create(
            name=demo.name,
            kind=demo.kind,
            time_zone=demo.time_zone,
            country=country_of_zone(demo.time_zone),  # its country's holidays: Japan's, the USA's, Ireland's ...
            website=f"https://www.{demo.name.split()[0].lower()}.example",
            notes=DEMO_NOTE,
        )
        slug = demo.name.split()[0].lower()
        PartnerContact.objects.create(
            partner=partner,
            name=f"{demo.name.split()[0]} Partnerships",
            email=f"partners@{slug}.example",
            is_primary=True,
        )
        has_data = demo.parts in ("data", "both")
        has_trading = demo.parts in ("trading", "both")
        integration = Integration(
            partner=partner,
            template=template,
            parts=demo.parts,
            data_types=demo.data_types,
            data_source=demo.data_source,
            data_auth="fixed_token" if has_data else "",
            trading_auth="oauth2_code" if has_trading else "",
            trading_staging_url=f"https://staging-api.{slug}.example/tradingview" if has_trading else "",
            data_staging_url=f"https://staging-data.{slug}.example/tradingview" if has_data else "",
            spec_version="1.9",
            slack_channel_id="C0" + slug.upper()[:6].ljust(6, "X"),
            jira_project_key=slug.upper()[:4],
            tv_pm=user,
            business_manager=User.objects.get(username="carol"),
            tech_contact=User.objects.get(username="bob"),
        )
        integration.full_clean()
        integration.save()
        pms, devs, qas = demo.team
        for role, count in (("pm", pms), ("developer", devs), ("qa", qas)):
            for i in range(1, count + 1):
                TeamMember.objects.create(
                    integration=integration,
                    name=f"{demo.name.split()[0]} {role.upper() if role != 'developer' else 'Dev'} {i}",
                    email=f"{role}{i}@{slug}.example",
                    role=role,
                )

        kickoff = today - timedelta(weeks=demo.weeks_since_kickoff, days=today.weekday())
        plan.start_integration(integration, kickoff, self.context(user, kickoff, 10, DEMO_NOTE, system=True))
        StoryTeller(integration, demo, user, kickoff).play()

    @staticmethod
    def context(user, day, hour, note="", system=False):
        when = datetime.combine(day, time(hour), timezone.get_current_timezone())
        source = ChangeSource.SYSTEM if system else ChangeSource.WEB
        return ChangeContext(source=source, by=user, at=min(when, timezone.now()), note=note)


class StoryTeller:
    """Plays one demo story through the services, on working days, up to today (or its pause)."""

    def __init__(self, integration, demo: DemoStory, user, kickoff: date):
        self.integration = integration
        self.demo = demo
        self.user = user
        self.kickoff = kickoff
        self.zones = {Side.TRADINGVIEW: timezone.get_current_timezone(), Side.PARTNER: ZoneInfo(demo.time_zone)}
        today = today_for()
        self.paused_on = None
        if demo.paused_days_ago:
            self.paused_on = _working_day_before(today - timedelta(days=demo.paused_days_ago))
        # The story is history: it ends the working day before today, or on the day it paused.
        self.last_day = self.paused_on or _working_day_before(today - timedelta(days=1))
        self.finished: dict[str, date] = {}

    def at(self, step, day: date, hour: int, minute: int = 0) -> ChangeContext:
        when = datetime.combine(day, time(hour, minute), self.zones[step.side])
        return ChangeContext(ChangeSource.WEB, by=self.user, at=min(when, timezone.now() - timedelta(minutes=5)))

    def actionable_since(self, step) -> date:
        return max([self.finished.get(code, self.kickoff) for code in step.depends_on], default=self.kickoff)

    def play(self):
        settled = 0
        for step in self.integration.steps.all():
            if settled >= self.demo.settled:
                break
            if step.status == StepStatus.NOT_APPLICABLE:
                self.finished[step.code] = self.actionable_since(step)
                settled += 1
                continue
            step.refresh_from_db()  # its deadline moves when a prerequisite was handed over late
            offset = self.demo.late.get(step.code, -1)
            finish = _shift_working_days(step.due_date, offset)
            begin = self.actionable_since(step)
            finish = max(finish, begin)
            if finish > self.last_day:
                break
            start_day = min(_next_working_day_after(begin) if begin < finish else begin, finish)
            steps.start_step(step, self.at(step, start_day, 10, step.position))
            done = self.at(step, finish, 15, step.position)
            if step.handovers:
                record_demo_handovers(self.integration, step.handovers, self.user, done.moment)
            if not self.jenkins_completes(step, start_day, finish):
                steps.complete_step(step, done)
            self.finished[step.code] = finish
            settled += 1
        self.integration.refresh_from_db()
        for step in rules.actionable_steps(self.integration.steps.all()):
            begin = self.actionable_since(step)
            start_day = min(_next_working_day_after(begin), self.last_day)
            steps.start_step(step, self.at(step, start_day, 16 if start_day == begin else 10))
            if step.code == CONFIGURATION:
                link_demo_jobs(self.integration, self.user, self.at(step, start_day, 16, 30).moment)
            elif step.code == PASSING:
                record_demo_run(self.integration, DEMO_FAILURE, self.at(step, start_day, 17).moment)
            if self.demo.blocked and step == self.integration.current_step:
                block_day = max(start_day, _working_day_before(self.last_day - timedelta(days=1)))
                steps.block_step(step, self.at(step, block_day, 17).with_note(self.demo.blocked))
        if self.paused_on:
            when = datetime.combine(self.paused_on, time(17), self.zones[Side.TRADINGVIEW])
            note = "Partner re-prioritising its engineering team."
            plan.pause(self.integration, ChangeContext(ChangeSource.WEB, by=self.user, at=when, note=note))

    def jenkins_completes(self, step, start_day: date, finish: date) -> bool:
        """The autotest steps on Jenkins' evidence: jobs linked, a failing first run, then a passing one."""
        if step.code == CONFIGURATION:
            if not link_demo_jobs(self.integration, self.user, self.at(step, start_day, 11).moment):
                return False
            record_demo_run(self.integration, DEMO_FAILURE, self.at(step, finish, 14).moment)
        elif step.code == PASSING:
            failed_on = max(start_day, _working_day_before(finish - timedelta(days=1)))
            record_demo_run(self.integration, DEMO_FAILURE, self.at(step, failed_on, 11).moment)
            record_demo_run(self.integration, DEMO_SUCCESS, self.at(step, finish, 14).moment)
        else:
            return False
        step.refresh_from_db()
        return step.status == StepStatus.DONE


def _shift_working_days(day: date, n: int) -> date:
    """``n`` working days after ``day`` (before it, for a negative ``n``)."""
    if n >= 0:
        return add_working_days(day, n)
    while n:
        day -= timedelta(days=1)
        if is_working_day(day):
            n += 1
    return day


def _working_day_before(day: date) -> date:
    """``day`` if it is a working day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _next_working_day_after(day: date) -> date:
    return add_working_days(day, 1)
