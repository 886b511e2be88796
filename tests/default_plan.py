"""The default roadmap planned from one fixed kick-off: the calendar the tests share."""

from datetime import date

# A Monday: every due date of the plan falls on a Monday too.
KICKOFF = date(2026, 3, 2)

# The default roadmap's steps, in order.
STEP_CODES = [
    "slack-jira-onboarding",
    "autotests-configuration",
    "endpoints-implementation",
    "passing-autotests",
    "sandbox-access",
    "sandbox-development",
    "request-production-urls",
    "production-deployment",
    "smoke-testing",
    "smoke-test-fixes",
    "final-testing-1",
    "final-testing-fixes-1",
    "final-testing-2",
    "final-testing-fixes",
    "closed-release",
    "beta-testing",
    "open-to-all-users",
]

# Planned dates for a kick-off on KICKOFF. Partner steps are due at their roadmap week; TradingView's
# tasks 3 working days after the plan makes them actionable (the first two: after kick-off), except
# where the partner has one week between two due weeks: sandbox access, production URLs, smoke testing
# and the closed release are due on the partner's due date before (TradingView prepares meanwhile).
# Final testing's two rounds share weeks 8-9: each round is TradingView's 3 working days of testing
# (it tests the fixes, so it is not prepared ahead), then the partner's 2 working days of fixing.
PLANNED_DUE = {
    "slack-jira-onboarding": date(2026, 3, 5),
    "autotests-configuration": date(2026, 3, 5),
    "endpoints-implementation": date(2026, 3, 30),
    "passing-autotests": date(2026, 3, 30),
    "sandbox-access": date(2026, 3, 30),
    "sandbox-development": date(2026, 4, 6),
    "request-production-urls": date(2026, 4, 6),
    "production-deployment": date(2026, 4, 13),
    "smoke-testing": date(2026, 4, 13),
    "smoke-test-fixes": date(2026, 4, 20),
    "final-testing-1": date(2026, 4, 23),  # Thursday: 3 working days after the smoke fixes
    "final-testing-fixes-1": date(2026, 4, 27),  # week 8, 2 working days after round 1
    "final-testing-2": date(2026, 4, 30),  # Thursday: 3 working days after the round-1 fixes
    "final-testing-fixes": date(2026, 5, 4),  # week 9, 2 working days after round 2
    "closed-release": date(2026, 5, 4),
    "beta-testing": date(2026, 5, 11),
    "open-to-all-users": date(2026, 5, 25),
}
LAUNCH_WINDOW = (date(2026, 5, 18), date(2026, 5, 25))
