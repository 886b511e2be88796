"""The launch forecast's confidence: durations learned from history, simulated, and calibrated."""

from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from benchmarks.synthetic_portfolio import backtest, make_portfolio, template_steps
from roadmap import confidence
from roadmap.schedule import add_working_days, plan_due_dates

KICKOFF = date(2026, 1, 5)  # a Monday


def planned_steps(kickoff=KICKOFF):
    plan = plan_due_dates(template_steps(), kickoff)
    return [s.__class__(**{**s.__dict__, "planned_due_date": plan[s.code][1]}) for s in template_steps()]


def done(step, day):
    return step.__class__(**{**step.__dict__, "status": "done", "completed_at": datetime.combine(day, time(12), UTC)})


def finished_integration(days_each: int, kickoff=KICKOFF):
    """Every step done ``days_each`` working days after its prerequisites."""
    finished, out = {}, []
    for s in planned_steps(kickoff):
        day = add_working_days(max((finished[c] for c in s.depends_on), default=kickoff), days_each)
        finished[s.code] = day
        out.append(done(s, day))
    return out


def test_finished_durations_count_working_days_after_the_step_became_actionable():
    steps = finished_integration(4)
    durations = dict(confidence.finished_durations(steps, KICKOFF))
    assert set(durations.values()) == {4}
    assert ("production-deployment", "partner") in durations


def test_without_history_the_plan_is_the_prior():
    history = confidence.History()
    rng = np.random.default_rng(1)
    draws = history.draw(("endpoints-implementation", "partner"), 20, 4000, rng)
    assert 17 <= np.median(draws) <= 23


def test_plentiful_history_outweighs_the_plan():
    history = confidence.History.learn([(finished_integration(2), KICKOFF)] * 200)
    rng = np.random.default_rng(1)
    draws = history.draw(("endpoints-implementation", "partner"), 20, 4000, rng)
    assert np.median(draws) == 2
    assert np.mean(draws == 2) > 0.95


def test_the_simulation_is_deterministic_with_a_seed_and_ordered():
    history = confidence.History.learn([(finished_integration(3), KICKOFF)] * 10)
    today = date(2026, 2, 2)
    steps = planned_steps()
    one = confidence.forecast(steps, KICKOFF, today, history, seed=7)
    two = confidence.forecast(steps, KICKOFF, today, history, seed=7)
    assert one == two
    assert today <= one.p50 <= one.p85


def test_done_steps_do_not_move():
    """All done but the launch: the launch follows the last step's real day, not the plan."""
    history = confidence.History.learn([(finished_integration(1), KICKOFF)] * 50)
    slow = finished_integration(8)
    launch_step = slow[-1]
    steps = slow[:-1] + [
        launch_step.__class__(**{**launch_step.__dict__, "status": "not_started", "completed_at": None})
    ]
    last_done = slow[-2].completed_at.date()
    today = add_working_days(last_done, 1)
    got = confidence.forecast(steps, KICKOFF, today, history, seed=1)
    # The launch takes 1 working day after it became actionable (the day the last step was done);
    # it ran a day already, so it is due from today on, whatever the plan said.
    assert got.p50 >= today
    assert got.p85 <= add_working_days(today, 3)
    assert got.risk_code == "open-to-all-users"


def test_the_sentence_names_the_step_and_its_history():
    history = confidence.History.learn([(finished_integration(9), KICKOFF)] * 14)
    got = confidence.forecast(planned_steps(), KICKOFF, KICKOFF, history, seed=1)
    assert "took 9 working days at the median across 14 integrations" in got.risk
    assert got.risk.startswith(("the partner's", "TradingView's"))


def test_the_sentence_says_when_the_plan_drives_it():
    got = confidence.forecast(planned_steps(), KICKOFF, KICKOFF, confidence.History(), seed=1)
    assert "no history yet" in got.risk


@pytest.mark.parametrize("seed", [3])
def test_p85_is_calibrated_on_a_seeded_synthetic_portfolio(seed):
    portfolio, _ = make_portfolio(90, seed=seed)
    result = backtest(portfolio, runs=600, seed=seed, skip_first=30)
    assert result.checks > 300
    assert 0.80 <= result.calibration <= 0.90, result.calibration
