"""The shipped default roadmap: TradingView's "REST API integration roadmap" for brokers.

Rows follow the process in order; TradingView's tasks carry no due week of their own and are due
with the partner step that follows them. Loaded by data migrations (``install``), so a fresh
database holds version 1 (``STEPS_V1``: final testing as one TradingView step and one partner step
due week 9) and version 2 (``STEPS``: final testing as two dated rounds). Integrations keep the
version they were kicked off on; new ones take the newest.
"""

KEY = "tradingview-rest-api"
NAME = "TradingView REST API integration"
DESCRIPTION = (
    "Seven numbered steps over about twelve weeks, each a TradingView task and a partner task, "
    "then the launch. Jira for every technical question and bug report; the partner's Slack "
    "channel for business questions, deadlines and next steps."
)

STEPS_V1 = [
    {
        "code": "slack-jira-onboarding",
        "number": 1,
        "side": "tradingview",
        "title": "Slack/Jira onboarding",
        "description": "TradingView tech team establishes a dedicated Slack channel and invites the "
        "partner's team, and helps with the onboarding to Jira for technical support.",
        "checklist": [
            {"text": "Dedicated Slack channel created"},
            {"text": "Partner team invited to the Slack channel"},
            {"text": "Partner onboarded to Jira"},
        ],
        "due_week": None,
        "depends_on": [],
        "tells_via": ["slack"],
        "condition": "always",
    },
    {
        "code": "autotests-configuration",
        "number": 2,
        "side": "tradingview",
        "title": "REST API autotests configuration",
        "description": "TradingView tech team configures the Jenkins autotests for the trading "
        "endpoints, and for the data endpoints only if the data type is Crypto or FX/CFD.",
        "checklist": [
            {"text": "Trading endpoints autotests configured in Jenkins", "condition": "trading_part"},
            {"text": "Data endpoints autotests configured in Jenkins", "condition": "data_autotests"},
        ],
        "due_week": None,
        "depends_on": [],
        "tells_via": ["slack"],
        "condition": "autotests",
    },
    {
        "code": "endpoints-implementation",
        "number": 1,
        "side": "partner",
        "title": "Data / trading endpoints implementation",
        "description": "The broker or exchange implements its data and/or trading endpoints.",
        "checklist": [
            {"text": "Data endpoints implemented", "condition": "data_part"},
            {"text": "Trading endpoints implemented", "condition": "trading_part"},
        ],
        "due_week": 4,
        "depends_on": [],
        "tells_via": ["slack"],
        "condition": "always",
    },
    {
        "code": "passing-autotests",
        "number": 2,
        "side": "partner",
        "title": "Passing REST API autotests",
        "description": "The trading endpoints pass their autotests in Jenkins; the data endpoints "
        "too, only for Crypto or FX/CFD data.",
        "checklist": [
            {"text": "Trading endpoints autotests pass in Jenkins", "condition": "trading_part"},
            {"text": "Data endpoints autotests pass in Jenkins", "condition": "data_autotests"},
        ],
        "due_week": 4,
        "depends_on": ["autotests-configuration", "endpoints-implementation"],
        "tells_via": ["slack"],
        "condition": "autotests",
    },
    {
        "code": "sandbox-access",
        "number": 3,
        "side": "tradingview",
        "title": "Sandbox access configuration",
        "description": "TradingView requests the partner's data, configures and provides Sandbox "
        "access, and shares the test-cases plan.",
        "checklist": [
            {"text": "Partner's IP addresses, OAuth2 client data and SVG icons received"},
            {"text": "Sandbox access configured and provided"},
            {"text": "Test-cases plan shared"},
        ],
        "due_week": None,
        "depends_on": ["slack-jira-onboarding", "endpoints-implementation", "passing-autotests"],
        "tells_via": ["slack"],
        "condition": "always",
    },
    {
        "code": "sandbox-development",
        "number": 3,
        "side": "partner",
        "title": "Integration development in the Sandbox",
        "description": "The partner develops the integration in the Sandbox and completes the test-cases plan.",
        "checklist": [{"text": "Integration developed in the Sandbox"}, {"text": "Test-cases plan completed"}],
        "due_week": 5,
        "depends_on": ["sandbox-access"],
        "tells_via": ["slack"],
        "condition": "always",
    },
    {
        "code": "request-production-urls",
        "number": 4,
        "side": "tradingview",
        "title": "Request production integration URLs",
        "description": "TradingView asks the partner to confirm the staging URL, to share the "
        "production URL and to complete the sheet for its authorisation type.",
        "checklist": [
            {"text": "Staging URL confirmed"},
            {"text": "Production URL requested"},
            {"text": "Partner asked to complete the sheet for its authorisation type"},
        ],
        "due_week": None,
        "depends_on": ["sandbox-development"],
        "tells_via": ["slack"],
        "condition": "always",
        "handovers": ["staging_url"],
    },
    {
        "code": "production-deployment",
        "number": 4,
        "side": "partner",
        "title": "Deploy to production + send production URL",
        "description": "The partner deploys the integration to production on its side and sends "
        "TradingView the production URL, completing the sheet if required.",
        "checklist": [
            {"text": "Integration deployed to the partner's production"},
            {"text": "Production URL sent to TradingView"},
            {"text": "Sheet completed, if the authorisation type requires it"},
        ],
        "due_week": 6,
        "depends_on": ["request-production-urls"],
        "tells_via": ["slack"],
        "condition": "always",
        "handovers": ["production_urls", "auth_sheet"],
    },
    {
        "code": "smoke-testing",
        "number": 5,
        "side": "tradingview",
        "title": "Smoke testing",
        "description": "TradingView schedules and runs smoke tests from the completed test-cases "
        "plan. A partner connecting its own data feed must first have the feed deployed to "
        "TradingView production.",
        "checklist": [
            {"text": "Partner's own data feed deployed to TradingView production", "condition": "own_data_feed"},
            {"text": "Smoke tests run from the completed test-cases plan"},
            {"text": "Issues reported in Jira"},
        ],
        "due_week": None,
        "depends_on": ["production-deployment"],
        "tells_via": ["jira"],
        "condition": "always",
    },
    {
        "code": "smoke-test-fixes",
        "number": 5,
        "side": "partner",
        "title": "Fixing possible issues (smoke tests)",
        "description": "Every issue reported from smoke testing is fixed.",
        "checklist": [{"text": "Every smoke-test issue fixed"}],
        "due_week": 7,
        "depends_on": ["smoke-testing"],
        "tells_via": ["slack", "jira"],
        "condition": "always",
        "jira_bug_labels": ["smoke-test"],
    },
    {
        "code": "final-testing",
        "number": 6,
        "side": "tradingview",
        "title": "Final testing",
        "description": "TradingView schedules and performs two rounds of final in-depth testing "
        "(TradingView staging against the partner's production).",
        "checklist": [
            {"text": "Final testing, round 1"},
            {"text": "Final testing, round 2"},
            {"text": "Issues reported in Jira"},
        ],
        "due_week": None,
        "depends_on": ["smoke-test-fixes"],
        "tells_via": ["jira"],
        "condition": "always",
    },
    {
        "code": "final-testing-fixes",
        "number": 6,
        "side": "partner",
        "title": "Fixing possible issues (final testing)",
        "description": "Every issue found in final testing is fixed; TradingView checks the fixes.",
        "checklist": [{"text": "Every final-testing issue fixed"}, {"text": "Fixes checked by TradingView"}],
        "due_week": 9,
        "depends_on": ["final-testing"],
        "tells_via": ["slack", "jira"],
        "condition": "always",
        "jira_bug_labels": ["final-test-1", "final-test-2"],
    },
    {
        "code": "closed-release",
        "number": 7,
        "side": "tradingview",
        "title": "Closed release",
        "description": "Only if no identified issue affects the UX: TradingView deploys the "
        "integration to production hidden from all users and asks for the beta testers' usernames.",
        "checklist": [
            {"text": "No identified issue affects the UX"},
            {"text": "Deployed to production, hidden from all users"},
            {"text": "Beta testers' usernames requested"},
        ],
        "due_week": None,
        "depends_on": ["final-testing-fixes"],
        "tells_via": ["slack"],
        "condition": "always",
        "held_by_ux_bugs": True,
    },
    {
        "code": "beta-testing",
        "number": 7,
        "side": "partner",
        "title": "Beta testing",
        "description": "The partner provides the beta testers' usernames; beta testers give "
        "feedback. Once the integration is confirmed optimal, beta testing passes and a launch "
        "date is negotiated.",
        "checklist": [
            {"text": "Beta testers' usernames provided"},
            {"text": "Beta testers' feedback received"},
            {"text": "Launch date agreed"},
        ],
        "due_week": 10,
        "depends_on": ["closed-release"],
        "tells_via": ["slack"],
        "condition": "always",
        "handovers": ["beta_testers"],
    },
    {
        "code": "open-to-all-users",
        "number": None,
        "side": "tradingview",
        "title": "Open to all users",
        "description": "TradingView opens the integration to all users and tells the partner by email and on Slack.",
        "checklist": [{"text": "Integration open to all users"}, {"text": "Partner told by email and on Slack"}],
        "due_week": 11,
        "due_week_last": 12,
        "depends_on": ["beta-testing"],
        "tells_via": ["email", "slack"],
        "condition": "always",
    },
]


# Version 2: final testing's two rounds are two dated rounds with their own deadlines. The seed
# gives the partner's fixing a deadline at week 9 and TradingView two rounds of testing after the
# smoke fixes (week 7): weeks 8-9, ten working days, are two rounds of 3 working days of testing
# and 2 of fixing. Week 8 is the round-1 date within those two weeks.
FINAL_TESTING_ROUNDS = [
    {
        "code": "final-testing-1",
        "number": 6,
        "side": "tradingview",
        "title": "Final testing, round 1",
        "description": "TradingView performs the first round of final in-depth testing (TradingView "
        "staging against the partner's production) and reports the issues in Jira.",
        "checklist": [{"text": "Final testing, round 1"}, {"text": "Issues reported in Jira, labelled final-test-1"}],
        "due_week": None,
        "depends_on": ["smoke-test-fixes"],
        "tells_via": ["jira"],
        "condition": "always",
        "prepared_ahead": False,
    },
    {
        "code": "final-testing-fixes-1",
        "number": 6,
        "side": "partner",
        "title": "Fixing round-1 issues",
        "description": "Every issue found in the first round of final testing is fixed; TradingView checks the fixes.",
        "checklist": [{"text": "Every round-1 issue fixed"}, {"text": "Fixes checked by TradingView"}],
        "due_week": 8,
        "keeps_days": 2,
        "depends_on": ["final-testing-1"],
        "tells_via": ["slack", "jira"],
        "condition": "always",
        "jira_bug_labels": ["final-test-1"],
    },
    {
        "code": "final-testing-2",
        "number": 6,
        "side": "tradingview",
        "title": "Final testing, round 2",
        "description": "TradingView performs the second round of final in-depth testing on the "
        "round-1 fixes and reports the issues in Jira.",
        "checklist": [{"text": "Final testing, round 2"}, {"text": "Issues reported in Jira, labelled final-test-2"}],
        "due_week": None,
        "depends_on": ["final-testing-fixes-1"],
        "tells_via": ["jira"],
        "condition": "always",
        "prepared_ahead": False,
    },
    {
        "code": "final-testing-fixes",
        "number": 6,
        "side": "partner",
        "title": "Fixing round-2 issues",
        "description": "Every issue found in the second round of final testing is fixed; TradingView checks the fixes.",
        "checklist": [{"text": "Every round-2 issue fixed"}, {"text": "Fixes checked by TradingView"}],
        "due_week": 9,
        "keeps_days": 2,
        "depends_on": ["final-testing-2"],
        "tells_via": ["slack", "jira"],
        "condition": "always",
        "jira_bug_labels": ["final-test-2"],
    },
]


def _version_2(rows):
    """Version 1's rows with pair 6 (``final-testing``, ``final-testing-fixes``) as two rounds."""
    pair_6 = [i for i, row in enumerate(rows) if row["code"] in ("final-testing", "final-testing-fixes")]
    return rows[: pair_6[0]] + FINAL_TESTING_ROUNDS + rows[pair_6[-1] + 1 :]


STEPS = _version_2(STEPS_V1)
VERSIONS = {1: STEPS_V1, 2: STEPS}
VERSION = max(VERSIONS)  # the newest, which new integrations take


def install(template_model, step_model, version: int = VERSION):
    """Create ``version`` of the default template (the newest by default) unless it exists; returns it.

    Takes the model classes so a migration can pass its historical models; a migration names the
    version it installs, since the newest changes.
    """
    template, created = template_model.objects.get_or_create(
        key=KEY, version=version, defaults={"name": NAME, "description": DESCRIPTION}
    )
    if created:
        # A migration's historical model may predate some columns; those are set by later migrations.
        known = {f.name for f in step_model._meta.get_fields()}
        step_model.objects.bulk_create(
            step_model(
                template=template,
                position=position,
                **{k: v for k, v in {**row, "tells_via": ",".join(row["tells_via"])}.items() if k in known},
            )
            for position, row in enumerate(VERSIONS[version], start=1)
        )
    return template


def install_all(template_model, step_model):
    """Every version of the default template, as the migrations leave a fresh database; returns the newest."""
    for version in VERSIONS:
        template = install(template_model, step_model, version)
    return template


def set_handovers(template_model, step_model):
    """Give version 1's steps the hand-overs ``STEPS_V1`` names (production URLs, sheet, beta testers)."""
    template = template_model.objects.filter(key=KEY, version=1).first()
    if template is None:
        return
    for row in STEPS_V1:
        step_model.objects.filter(template=template, code=row["code"]).update(handovers=row.get("handovers", []))


def set_jira_fields(template_model, step_model):
    """Give version 1's steps their Jira testing-round labels and UX hold, as ``STEPS_V1`` has them."""
    template = template_model.objects.filter(key=KEY, version=1).first()
    if template is None:
        return
    for row in STEPS_V1:
        step_model.objects.filter(template=template, code=row["code"]).update(
            jira_bug_labels=row.get("jira_bug_labels", []), held_by_ux_bugs=row.get("held_by_ux_bugs", False)
        )
