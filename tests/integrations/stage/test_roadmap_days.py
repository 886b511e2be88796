"""The stage page's roadmap says how many working days each side has for each step."""

import re

import pytest
from django.urls import reverse

from tests.integrations.helpers import on

pytestmark = pytest.mark.django_db


def test_the_partner_sees_its_week_for_each_step_and_tradingviews_days(client, partner_user, started_integration):
    client.force_login(partner_user)
    with on("2026-03-10"):
        html = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    table = html[html.index('id="roadmap"') : html.index("</table>", html.index('id="roadmap"'))]
    rows = {
        # The step's title, before its comment thread in the same cell.
        re.sub(r"<[^>]+>|\s+", " ", title.splitlines()[0]).strip(): days
        for title, days in re.findall(
            r'data-label="Step">(.*?)</td>.*?<span class="muted row-days">(.*?)</span>', table, flags=re.S
        )
    }
    # The plan's days: the partner keeps its week before the sandbox, TradingView preparing meanwhile.
    assert rows["3 · Integration development in the Sandbox"] == "5 working days for you"
    assert rows["4 · Deploy to production + send production URL"] == "5 working days for you"
    assert rows["3 · Sandbox access configuration"] == "prepared by TradingView during your week"
    # Final testing's two rounds in weeks 8-9: TradingView tests 3 working days, the partner fixes in 2.
    assert rows["6 · Final testing, round 1"] == rows["6 · Final testing, round 2"] == "3 working days for TradingView"
    assert rows["6 · Fixing round-1 issues"] == rows["6 · Fixing round-2 issues"] == "2 working days for you"
