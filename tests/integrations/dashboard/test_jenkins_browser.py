"""Jenkins in headless Chromium: a PM links both parts' jobs on the integration page, Jenkins posts a
failure then a success to /hooks/jenkins/, and the step moves, its history saying jenkins.

Screenshots land in var/screenshots/jenkins-*.png.
"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from integrations.steps import complete_step
from roadmap.models import StepStatus
from tests.browser import needs_browser
from tests.integrations.dashboard.test_browser import login
from tests.integrations.helpers import ctx, step
from tests.integrations.jenkins.conftest import DATA_JOB, TRADING_JOB, eager_tasks, fixture_json  # noqa: F401

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def link_job(page, integration, part, name) -> str:
    """Link ``name`` to ``part`` with the page's form; the token it shows once."""
    page.goto(f"/integrations/{integration.pk}/#autotests")
    page.select_option("#id_jenkins-part", part)
    page.fill("#id_jenkins-job_name", name)
    page.click("#autotests button:has-text('Link and show its token')")
    page.wait_for_load_state("networkidle")
    text = page.locator("#autotests").inner_text()
    return re.search(r"Token: (\S+)", text).group(1)


def notify(page, token, body) -> int:
    response = page.request.post(
        f"/hooks/jenkins/?token={token}", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    return response.status


@pytest.mark.usefixtures("eager_tasks")  # the live server's queued processing runs in its thread
def test_a_failure_then_a_success_from_jenkins_moves_the_step(page, pm, started_integration):
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm))
    login(page, pm)
    trading = link_job(page, started_integration, "trading", TRADING_JOB)
    data = link_job(page, started_integration, "data", DATA_JOB)

    # Jenkins' builds as its Notification plugin reports them; now, so no clock travel is needed.
    def now_ms():
        from django.utils import timezone

        return int(timezone.now().timestamp() * 1000)

    assert notify(page, data, fixture_json("completed_success", job=DATA_JOB, number=7, timestamp=now_ms())) == 202
    assert notify(page, trading, fixture_json("started", number=42, timestamp=now_ms())) == 202
    assert notify(page, trading, fixture_json("completed_failure", number=42, timestamp=now_ms())) == 202

    passing = step(started_integration, "passing-autotests")
    page.goto(f"/integrations/{started_integration.pk}/")
    assert step(started_integration, "autotests-configuration").status == StepStatus.DONE  # first builds ran
    refusal = page.locator(f"#step-{passing.pk} .offer-line")  # why it cannot be marked done yet, in one line
    assert "Not done yet: " in refusal.inner_text()
    assert "Trading autotests: build #42 FAILURE" in refusal.inner_text()
    assert "#42 FAILURE" in page.locator("#autotests").inner_text()
    page.locator("#autotests").screenshot(path=str(SCREENSHOTS / "jenkins-failing.png"))

    assert notify(page, trading, fixture_json("completed_success", number=43, timestamp=now_ms())) == 202
    page.goto(f"/integrations/{started_integration.pk}/")
    assert step(started_integration, "passing-autotests").status == StepStatus.DONE
    assert page.locator(f"#step-{passing.pk} summary:has-text('Reopen')").count() == 1
    history = page.locator("#history").inner_text()
    assert "Jenkins via Jenkins" in history  # who (by_name) and the source
    link = page.locator("#autotests a", has_text="#43 SUCCESS")
    assert link.get_attribute("href") == f"https://ci.tradingview.example/job/{TRADING_JOB}/43/"
    page.screenshot(path=str(SCREENSHOTS / "jenkins-passed.png"), full_page=True)
