"""``manage.py seed_demo``: a realistic demo portfolio and a demo staff login.

Twelve fictional partners at different points of the roadmap: on time, late, blocked, paused,
one launched. Their history is written through the same functions the product uses, dated in the
past, so every figure (overdue days, forecast launch, delay split) is computed as for real data.
Running it again changes nothing; ``--reset`` replaces the demo partners.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from integrations import plan, steps
from integrations.models import ChangeSource, Integration, Partner, PartnerContact, TeamMember
from roadmap.default_template import KEY
from roadmap.models import RoadmapTemplate

DEMO_NOTE = "Demo partner created by seed_demo."


@dataclass
class DemoPartner:
    name: str
    kind: str
    time_zone: str
    parts: str
    data_types: list
    data_source: str
    weeks_since_kickoff: int
    done: int  # steps completed, in roadmap order
    late_days: dict = field(default_factory=dict)  # step code -> days after due it was completed
    blocked: str = ""  # reason the current step is blocked
    in_progress: bool = True
    paused_days_ago: int | None = None
    team: tuple = (1, 2, 2)  # PMs, developers, QA


PORTFOLIO = [
    DemoPartner("Aldermoor Securities", "broker", "Europe/London", "both", ["stocks", "cfd"], "exchange_mapping", 1, 1),
    DemoPartner("Bluefin Exchange", "exchange", "Asia/Singapore", "both", ["crypto"], "own_feed", 3, 2),
    DemoPartner(
        "Corvid Capital", "broker", "America/New_York", "trading", [], "", 6, 4, late_days={"passing-autotests": 9}
    ),
    DemoPartner("Dunmore FX", "broker", "Europe/Dublin", "both", ["forex", "cfd"], "own_feed", 6, 3, team=(1, 1, 0)),
    DemoPartner(
        "Elbrus Markets",
        "broker",
        "Europe/Moscow",
        "data",
        ["stocks", "futures"],
        "exchange_mapping",
        7,
        5,
        blocked="The partner's only developer is on leave until next week.",
    ),
    DemoPartner("Fjord Trading", "broker", "Europe/Oslo", "both", ["stocks", "indices"], "exchange_mapping", 8, 8),
    DemoPartner(
        "Galena Digital",
        "exchange",
        "Europe/Zurich",
        "both",
        ["crypto"],
        "own_feed",
        9,
        7,
        late_days={"production-deployment": 12},
    ),
    DemoPartner(
        "Halcyon Brokerage",
        "broker",
        "Australia/Sydney",
        "trading",
        [],
        "",
        10,
        9,
        blocked="Smoke-test bug BRK-42 needs a fix in the partner's order ticket.",
    ),
    DemoPartner(
        "Ironwood Futures",
        "broker",
        "America/Chicago",
        "both",
        ["futures"],
        "exchange_mapping",
        5,
        4,
        paused_days_ago=12,
    ),
    DemoPartner("Juniper Prime", "broker", "Asia/Tokyo", "both", ["stocks", "bonds"], "exchange_mapping", 11, 13),
    DemoPartner(
        "Kestrel Coin",
        "exchange",
        "Asia/Dubai",
        "data",
        ["crypto"],
        "own_feed",
        12,
        14,
        late_days={"beta-testing": 4},
    ),
    DemoPartner("Lumen Markets", "broker", "America/Sao_Paulo", "both", ["stocks"], "exchange_mapping", 14, 15),
]


class Command(BaseCommand):
    help = "Load a demo portfolio of partner integrations and a demo staff login."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo partners first.")

    def handle(self, *args, reset=False, **options):
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

    def demo_user(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=settings.DEMO_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "first_name": "Demo", "last_name": "PM"},
        )
        if created:
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
        for username, first, last in [("bob", "Bob", "Tech"), ("carol", "Carol", "Business")]:
            User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "first_name": first, "last_name": last}
            )
        return user

    def create(self, demo: DemoPartner, template, user):
        User = get_user_model()
        today = timezone.localdate()
        partner = Partner.objects.create(
            name=demo.name,
            kind=demo.kind,
            time_zone=demo.time_zone,
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

        # Kick off on the Monday N weeks ago, at 10:00 local time.
        kickoff = today - timedelta(weeks=demo.weeks_since_kickoff, days=today.weekday())
        at = self.moment(kickoff, 10)
        plan.start_integration(integration, kickoff, source=ChangeSource.SYSTEM, by=user, note=DEMO_NOTE, at=at)
        now = timezone.now()
        who = {"source": ChangeSource.WEB, "by": user}
        done = 0
        for step in integration.steps.all():
            if done >= demo.done:
                break
            if not step.is_open:
                done += 1
                continue
            # On time: a couple of days before the due date; late: as many days after as listed.
            day = step.due_date + timedelta(days=demo.late_days.get(step.code, -2))
            at = min(max(self.moment(day, 15), at + timedelta(hours=1)), now - timedelta(minutes=5))
            steps.start_step(step, at=at - timedelta(minutes=30), **who)
            steps.complete_step(step, at=at, **who)
            done += 1
        integration.refresh_from_db()
        current = integration.current_step
        if current and integration.state == Integration.State.ACTIVE:
            if demo.blocked:
                steps.block_step(current, demo.blocked, at=now - timedelta(days=2), **who)
            elif demo.in_progress:
                steps.start_step(current, at=now - timedelta(days=1), **who)
        if demo.paused_days_ago:
            plan.pause(
                integration,
                note="Partner re-prioritising its engineering team.",
                at=now - timedelta(days=demo.paused_days_ago),
                **who,
            )

    @staticmethod
    def moment(day, hour):
        return timezone.make_aware(datetime.combine(day, time(hour)))
