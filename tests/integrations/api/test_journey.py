"""A whole integration through the API, from kick-off to launch, as two scripts would drive it:
TradingView's steps with a PM's token, the partner's with its own user's token, the hand-overs
checked against real servers on 127.0.0.1, the ball in court after every step, and the launch."""

from datetime import date

from integrations.models import Integration
from roadmap.schedule import add_working_days
from tests.integrations.api.conftest import error_of, results
from tests.integrations.handovers.helpers import run_pending_checks
from tests.integrations.helpers import at

KICKOFF = date(2026, 3, 2)


def test_an_integration_from_kick_off_to_launch_through_the_api(
    staff_api, partner_api, partner, pm, handover_servers, time_machine
):
    time_machine.move_to(at(KICKOFF, 9))
    created = staff_api.post(
        "integrations/",
        {
            "partner": partner.pk,
            "name": "Acme REST",
            "parts": "both",
            "data_types": ["crypto"],
            "data_source": "own_feed",
            "data_auth": "fixed_token",
            "trading_auth": "oauth2_code",
            "spec_version": "1.9",
            "tv_pm": pm.pk,
            "kickoff_on": KICKOFF.isoformat(),
        },
    )
    assert created.status_code == 201, created.content
    integration = created.json()["id"]
    steps = results(staff_api.get(f"integrations/{integration}/steps/", {"page_size": 50}))
    assert len(steps) == 17

    day, balls = KICKOFF, []
    for n, row in enumerate(steps):
        day = add_working_days(day, 2)
        time_machine.move_to(at(day, 10))
        mine, theirs = (partner_api, staff_api) if row["side"] == "partner" else (staff_api, partner_api)
        if row["side"] == "tradingview":
            error_of(theirs.post(f"steps/{row['id']}/complete/", {"note": "not mine"}), 403, "not_allowed")
        if row["code"] == "request-production-urls":
            # The request confirms the staging URLs: the partner hands them over first.
            refused = error_of(mine.post(f"steps/{row['id']}/complete/"), 409, "handover_missing")
            assert "The staging URL of the trading part has not been confirmed." in refused["message"]
            for part in ("trading", "data"):
                check = partner_api.post(
                    f"integrations/{integration}/handovers/urls/",
                    {"part": part, "environment": "staging", "url": handover_servers.good},
                )
                assert check.status_code == 202, check.content
                run_pending_checks()
        if row["code"] == "smoke-testing":
            # The partner's own feed must be in TradingView's production first.
            refused = error_of(mine.post(f"steps/{row['id']}/complete/"), 409, "waiting_on_feed")
            assert "own data feed" in refused["message"]
            fed = staff_api.patch(f"integrations/{integration}/", {"own_feed_in_production_on": day.isoformat()})
            assert fed.status_code == 200, fed.content
        if row["code"] == "production-deployment":
            refused = error_of(mine.post(f"steps/{row['id']}/complete/"), 409, "handover_missing")
            assert "production URL of the trading part" in refused["message"]
            for part in ("trading", "data"):
                check = partner_api.post(
                    f"integrations/{integration}/handovers/urls/",
                    {"part": part, "environment": "production", "url": handover_servers.good},
                )
                assert check.status_code == 202 and check.json()["outcome"] == "checking", check.content
                run_pending_checks()  # what the worker does
                assert partner_api.get(check.json()["link"]).json()["outcome"] == "ok"
            sheet = partner_api.put(
                f"integrations/{integration}/handovers/sheets/trading/",
                {
                    "client_id": "acme-tv",
                    "authorization_uri": "https://auth.acme.example/authorize",
                    "token_uri": "https://auth.acme.example/token",
                },
            )
            assert sheet.status_code == 200, sheet.content
        if row["code"] == "beta-testing":
            error_of(mine.post(f"steps/{row['id']}/complete/"), 409, "handover_missing")
            named = partner_api.put(
                f"integrations/{integration}/handovers/beta-testers/", {"usernames": ["trader_joe", "quant.ann"]}
            )
            assert named.status_code == 200, named.content

        done = mine.post(f"steps/{row['id']}/complete/", {"note": f"step {n + 1} done"})
        assert done.status_code == 200, (row["code"], done.content)
        if row["code"] in ("smoke-test-fixes", "final-testing-fixes-1", "final-testing-fixes"):
            # TradingView checks the partner's fixes: the ball is TradingView's until it verifies them.
            assert staff_api.get(f"integrations/{integration}/").json()["standing"]["ball_side"] == "tradingview"
            error_of(partner_api.post(f"steps/{row['id']}/verify/"), 403, "not_allowed")
            verified = staff_api.post(f"steps/{row['id']}/verify/")
            assert verified.status_code == 200, verified.content
        balls.append(staff_api.get(f"integrations/{integration}/").json()["standing"]["ball_side"])

    # Each step done hands the ball to the side owing the next one; the launch ends it.
    for row, following, ball in zip(steps, steps[1:], balls, strict=False):
        assert ball in (following["side"], "both"), (row["code"], ball)
    assert balls.count("both") == 1  # only while onboarding and the endpoints run side by side
    assert balls[-1] == ""
    final = staff_api.get(f"integrations/{integration}/").json()
    assert final["state"] == "launched" and final["launched_on"] == day.isoformat()
    assert Integration.objects.get(pk=integration).state == Integration.State.LAUNCHED
    # Every completion is in the history, from the API, by the side that did it.
    history = results(staff_api.get(f"integrations/{integration}/history/", {"page_size": 200}))
    completions = [h for h in history if h["kind"] == "step_change" and h["to_status"] == "done"]
    assert len(completions) == 17 and {h["source"] for h in completions} == {"api"}
    assert {h["by"] for h in completions} == {pm.username, "dev.bob"}
