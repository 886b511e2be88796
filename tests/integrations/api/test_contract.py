"""The contract test: schemathesis generates requests from the live OpenAPI schema and checks the answers.

The schema is loaded from the running app (``/api/schema/?format=json`` through its WSGI handler),
so it is the schema as served, not a copy. For each operation, examples are drawn both with
generated path ids (mostly 404s) and with the ids of real objects (Acme's partner, integration,
step), so the 200 answers and the refusals are checked too. Valid requests first, then invalid
ones (schemathesis's negative mode). Checks, for both: no 5xx, every response conforms to its
documented schema, and its status code is documented. Nothing is excluded.

Bounded and reproducible: a fixed number of examples per operation, derandomised, no shrinking.
Runs as staff and as the partner's user, each with a Bearer token.
"""

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.integrations.api.conftest import token_for
from tests.integrations.handovers.helpers import passing_check
from tests.integrations.helpers import step

pytestmark = pytest.mark.django_db

# Examples per operation: valid requests, then invalid ones (fewer: they mostly meet the same 400).
EXAMPLES = 15
NEGATIVE_EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def same_connection():
    """Keep the test's database connection across requests.

    Django's WSGI handler closes connections it judges obsolete when a request starts and ends;
    inside the test's transaction that would drop it. Django's own test client disconnects the
    same handler for the same reason.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def quiet_request_log():
    """Hundreds of deliberate 4xx answers: Django's request log would print a warning for each."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def api_schema(same_connection, quiet_request_log, db):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def real_ids(integration) -> dict[str, dict]:
    """Path parameters naming real objects, by the path's first segment after /api/v1/."""
    first = step(integration, "endpoints-implementation")
    check = passing_check(integration, "trading")
    return {
        "partners": {"id": integration.partner_id},
        "integrations": {
            "id": integration.pk,
            "integration_id": integration.pk,
            "part": "trading",
            "check_id": check.pk,
        },
        "steps": {"id": first.pk, "step_id": first.pk},
    }


def resource_of(operation) -> str:
    parts = [p for p in operation.path.split("/") if p and p not in ("api", "v1")]
    return parts[0] if parts else ""


@dataclass
class Findings:
    """What a run saw: the first failure of each operation and mode, and every status code answered."""

    failures: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))


def run_operation(operation, headers, known, mode, findings: Findings, examples: int):
    named = {
        name: value
        for name, value in known.get(resource_of(operation), {}).items()
        if name in {p.name for p in operation.path_parameters}
    }
    strategies = [operation.as_strategy(generation_mode=mode)]
    if named:
        strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=named))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(headers=headers)
        findings.statuses[operation.label][response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as error:
            # Collected rather than raised, so one run reports every operation that breaks the contract.
            findings.failures.setdefault(f"{mode} {operation.label}", _describe(error))

    check()


def _describe(error) -> str:
    parts = error.exceptions if isinstance(error, FailureGroup) else [error]
    return "\n".join(f"{getattr(p, 'title', type(p).__name__)}: {str(p)[:1500]}" for p in parts)


def run_contract(schema, raw_token, known) -> Findings:
    headers = {"Authorization": f"Bearer {raw_token}"}
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [o.label for o in operations]
    for operation in operations:
        run_operation(operation, headers, known, GenerationMode.POSITIVE, findings, EXAMPLES)
        # Invalid input: never a 5xx, and the 4xx is documented, with the contract's error body.
        run_operation(operation, headers, known, GenerationMode.NEGATIVE, findings, NEGATIVE_EXAMPLES)
    return findings


def assert_contract_holds(findings: Findings, reads_refused=()):
    assert not findings.failures, "\n\n".join(f"{name}\n{text}" for name, text in findings.failures.items())
    # A run that met only 401s, 404s or 429s would check next to nothing: every read must have
    # answered 200 at least once (with the real ids), and the throttle never have stepped in.
    statuses = findings.statuses
    assert not [label for label, seen in statuses.items() if seen[429]], dict(statuses)
    reads = [label for label in statuses if label.startswith("GET ") and label not in reads_refused]
    assert [label for label in reads if not statuses[label][200]] == [], dict(statuses)
    for label in reads_refused:
        assert set(statuses[label]) <= {403, 400}, (label, statuses[label])


def test_contract_as_staff(api_schema, pm, world, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    assert_contract_holds(run_contract(api_schema, token_for(pm)[1], real_ids(world)))


def test_contract_as_the_partners_user(api_schema, partner_user, world, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    findings = run_contract(api_schema, token_for(partner_user)[1], real_ids(world))
    assert_contract_holds(findings, reads_refused=["GET /api/v1/outbox/"])


def test_schema_and_docs_are_served_without_cdn(client, db):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/partners/",
        "/api/v1/integrations/",
        "/api/v1/integrations/{id}/",
        "/api/v1/steps/{id}/",
        "/api/v1/outbox/",
    ):
        assert path in paths, sorted(paths)
    assert client.get("/api/schema/").status_code == 200  # YAML by default
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger" in html.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/static/"), asset  # served by the product itself, no CDN
        assert client.get(asset).status_code == 200, asset
