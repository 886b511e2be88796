"""The launch forecast's confidence: durations learned from history, simulated, and calibrated."""

from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from benchmarks.synthetic_portfolio import backtest, make_portfolio, template_steps
from roadmap import confidence
from roadmap.default_template import VERSIONS
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


@pytest.mark.parametrize("version", [1, 2])
def test_p85_is_calibrated_on_a_seeded_synthetic_portfolio(version):
    """Each version of the default roadmap: the history as of each week holds the steps still running."""
    portfolio, _ = make_portfolio(150, seed=3, version=version)
    assert len(portfolio[0].steps) == len(VERSIONS[version])
    result = backtest(portfolio, runs=300, seed=3, skip_first=50)
    assert result.checks > 1000
    assert 0.80 <= result.calibration <= 0.90, result.calibration


def test_steps_still_running_weigh_on_the_longer_durations():
    """Half the launches took 3 days; the other half have run 20 days and are still open. Counting only the
    finished ones, a launch takes 3 days; each still running lasts at least 20, so half the draws are 20 or more."""
    finished = [(finished_integration(3), KICKOFF, (), (), None)] * 30
    steps, today = running_last_step(3, ran=20)
    running = [(steps, KICKOFF, (), (), today)] * 30
    history = confidence.History.learn(finished + running)
    key = ("open-to-all-users", "tradingview")
    draws = history.draw(key, 1, 4000, np.random.default_rng(5))
    assert 0.4 < np.mean(draws >= 20) < 0.6
    assert np.mean(draws == 3) > 0.4
    assert list(history.running[key]) == [20] * 30
    assert history.count(key) == 30  # the sentence's "across 30 integrations" counts the finished ones


def test_the_product_limit_weights_match_a_known_case():
    """Finished 2, 4, 6; running 3 and 7: 2 weighs 1, 4 and 6 take the running 3's share, 7's share stays beyond 6."""
    history = confidence.History(
        {("k", "partner"): np.array([2.0, 4.0, 6.0])}, {("k", "partner"): np.array([3.0, 7.0])}
    )
    days, weights, past, each = history.weighted(("k", "partner"))
    assert list(days) == [2, 4, 6]
    assert weights == pytest.approx([1.0, 4 / 3, 4 / 3])
    assert list(past) == [7] and each == pytest.approx(4 / 3)
    plain = confidence.History({("k", "partner"): np.array([2.0, 4.0, 6.0])})
    assert plain.weighted(("k", "partner"))[1] is None  # without running steps, a plain sample


def test_a_step_running_past_every_finished_one_is_placed_by_the_plan_beyond_its_days():
    history = confidence.History({("k", "partner"): np.array([2.0] * 10)}, {("k", "partner"): np.array([12.0] * 90)})
    draws = history.draw(("k", "partner"), 5, 4000, np.random.default_rng(2))
    assert np.mean(draws >= 12) > 0.85  # never back to the plan's 5 days for a step already 12 days in
    assert history.at_least(("k", "partner"), 5, 14, 4000, np.random.default_rng(2)).min() >= 14


def running_last_step(days_each: int, ran: int):
    """Every step done ``days_each`` working days after its prerequisites but the launch, open ``ran`` working days."""
    steps = finished_integration(days_each)
    last = steps[-1]
    steps[-1] = last.__class__(**{**last.__dict__, "status": "not_started", "completed_at": None})
    return steps, add_working_days(steps[-2].completed_at.date(), ran)


def test_a_group_with_enough_history_speaks_for_its_integrations():
    crypto = [(finished_integration(9), KICKOFF, (), ("crypto",))] * confidence.MIN_GROUP
    others = [(finished_integration(2), KICKOFF, (), ("forex",))] * 20
    history = confidence.History.learn(crypto + others)
    as_crypto = confidence.forecast(planned_steps(), KICKOFF, KICKOFF, history, seed=1, traits=("crypto",))
    as_any = confidence.forecast(planned_steps(), KICKOFF, KICKOFF, history, seed=1)
    assert f"took 9 working days at the median across {confidence.MIN_GROUP} crypto integrations" in as_crypto.risk
    assert "across 28 integrations" in as_any.risk
    assert as_crypto.p50 > as_any.p50


def test_a_group_short_of_history_falls_back_to_the_side_pool():
    few = [(finished_integration(9), KICKOFF, (), ("exchange",))] * (confidence.MIN_GROUP - 1)
    many = [(finished_integration(2), KICKOFF, (), ("broker",))] * 20
    history = confidence.History.learn(few + many)
    got = confidence.forecast(planned_steps(), KICKOFF, KICKOFF, history, seed=1, traits=("exchange",))
    assert f"across {20 + confidence.MIN_GROUP - 1} integrations" in got.risk
    assert "exchange" not in got.risk


def test_paused_days_are_not_counted_in_a_finished_step():
    """Paused on the kick-off's second and third working days: the first steps took 2 days, not 4."""
    steps = finished_integration(4)
    paused = {add_working_days(KICKOFF, 1), add_working_days(KICKOFF, 2)}
    durations = dict(confidence.finished_durations(steps, KICKOFF, paused=paused))
    first = {(s.code, s.side) for s in steps if not s.depends_on}
    assert {durations[key] for key in first} == {2}
    assert {days for key, days in durations.items() if key not in first} == {4}


def test_one_reading_gives_the_finished_and_the_running_steps_days():
    """Every step done 4 working days after its prerequisites up to smoke testing; 7 days later the
    smoke fixes have run 7 working days, a paused one of them not counted: 6."""
    finished = finished_integration(4)
    smoke = next(s for s in finished if s.code == "smoke-testing").completed_at.date()
    up_to = [s.position for s in finished if s.code == "smoke-testing"][0]
    steps = [
        s if s.position <= up_to else s.__class__(**{**s.__dict__, "status": "not_started", "completed_at": None})
        for s in finished
    ]
    today, paused = add_working_days(smoke, 7), {add_working_days(smoke, 2)}
    done, running = confidence.step_durations(steps, KICKOFF, today, paused=paused)
    assert {days for _, days in done} == {4} and len(done) == up_to + 1
    assert running == [(("smoke-test-fixes", "partner"), 6)]
    assert (done, running) == (
        confidence.finished_durations(steps, KICKOFF, paused=paused),
        confidence.running_durations(steps, KICKOFF, today, paused=paused),
    )
    assert confidence.step_durations(steps, KICKOFF, None) == (confidence.finished_durations(steps, KICKOFF), [])


def test_paused_days_are_not_counted_in_a_running_step():
    """The launch has run 6 working days, 4 of them paused: 2 count, and history says it takes 3."""
    history = confidence.History.learn([(finished_integration(3), KICKOFF)] * 60)
    steps, today = running_last_step(3, ran=6)
    became = steps[-2].completed_at.date()
    paused = {add_working_days(became, n) for n in range(1, 5)}
    with_pause = confidence.forecast(steps, KICKOFF, today, history, seed=2, paused=paused)
    assert with_pause.p50 == add_working_days(today, 1)
    without = confidence.forecast(steps, KICKOFF, today, history, seed=2)
    assert without.p50 > with_pause.p50  # 6 days in, past every sample: a fresh step's time from now


def test_a_running_step_is_drawn_only_from_durations_at_least_as_long():
    """Half the launches took 3 days, half 30: one 20 days in finishes 10 days from now, never 'in the past'."""
    history = confidence.History.learn(
        [(finished_integration(3), KICKOFF)] * 30 + [(finished_integration(30), KICKOFF)] * 30
    )
    steps, today = running_last_step(3, ran=20)
    got = confidence.forecast(steps, KICKOFF, today, history, seed=3)
    assert got.p50 == add_working_days(today, 10)
    draws = history.at_least(("open-to-all-users", "tradingview"), 1, 20, 4000, np.random.default_rng(3))
    assert draws.min() >= 20
    assert np.mean(draws == 30) > 0.9


def test_a_step_past_all_history_has_a_fresh_steps_time_left():
    """Every launch took 3 days: one already 20 days in is forecast 3 more, not done tomorrow."""
    history = confidence.History.learn([(finished_integration(3), KICKOFF)] * 60)
    steps, today = running_last_step(3, ran=20)
    got = confidence.forecast(steps, KICKOFF, today, history, seed=4)
    assert got.p50 == add_working_days(today, 3)


def portfolio_on(today):
    """Integrations kicked off on different Mondays, each with what it had done by ``today``."""
    cases = []
    for n, kickoff in enumerate([KICKOFF, date(2026, 1, 12), date(2026, 1, 19), KICKOFF]):
        steps = [
            s
            if s.completed_at.date() < today
            else s.__class__(**{**s.__dict__, "status": "not_started", "completed_at": None})
            for s in finished_integration(2 + n, kickoff)
        ]
        cases.append(confidence.Case(steps, kickoff, traits=("crypto",) if n % 2 else (), seed=10 + n))
    return cases


def test_a_portfolio_forecast_at_once_gives_each_integration_its_forecast_alone():
    history = confidence.History.learn(
        [(finished_integration(3), KICKOFF)] * 10 + [(finished_integration(6), KICKOFF)] * 5
    )
    today = date(2026, 2, 9)
    cases = portfolio_on(today)
    alone = [confidence.forecast(c.steps, c.kickoff, today, history, seed=c.seed, traits=c.traits) for c in cases]
    assert confidence.forecast_many(cases, today, history) == alone
    assert confidence.forecast_many(cases[::-1], today, history) == alone[::-1]  # whatever comes with it
    assert len({(f.p50, f.p85) for f in alone}) > 1


def test_without_a_seed_integrations_standing_alike_get_the_same_forecast():
    history = confidence.History.learn([(finished_integration(3), KICKOFF)] * 10)
    steps, today = running_last_step(3, ran=2)
    one, two = confidence.forecast_many(
        [confidence.Case(steps, KICKOFF), confidence.Case(list(steps), KICKOFF)], today, history
    )
    assert one == two == confidence.forecast(steps, KICKOFF, today, history)
