"""The text a Slack notification shows (the fallback beside the blocks): headline and detail read as sentences."""

import pytest

from notifications.messages import Mrkdwn, integration_blocks


@pytest.mark.parametrize(
    "headline, detail, said",
    [
        ("Due today", "What is left is yours to finish.", "Due today. What is left is yours to finish."),
        ("Blocked", "Waiting for <the> licence", "Blocked. Waiting for &lt;the&gt; licence"),
        ("This step is now yours.", "Due Mon 2 Mar.", "This step is now yours. Due Mon 2 Mar."),
        ("Launch date agreed:", "Mon 1 Jun 2026", "Launch date agreed: Mon 1 Jun 2026"),
        ("Configured", "— your next step: Sandbox", "Configured — your next step: Sandbox"),
        ("The partner finished a step", "alice via web", "The partner finished a step — alice via web"),
        (Mrkdwn("*Escalation*"), Mrkdwn("<@U0ALICE>: call them."), "*Escalation*. <@U0ALICE>: call them."),
        ("Launched", "", "Launched"),
    ],
)
def test_the_notification_text_sets_the_detail_apart_from_the_headline(started_integration, headline, detail, said):
    text, blocks = integration_blocks(started_integration, headline, detail, readers="partner")
    assert text == f"{said} (Acme Crypto Exchange)"
