"""The dashboard's URLs: each page module brings its own."""

from integrations.dashboard import (
    insight,
    integration_page,
    jenkins_jobs,
    new_integration,
    outbox,
    partner_team,
    portfolio,
    timeline,
)

urlpatterns = [
    *new_integration.urlpatterns,
    *portfolio.urlpatterns,
    *timeline.urlpatterns,
    *integration_page.urlpatterns,
    *insight.urlpatterns,
    *partner_team.urlpatterns,
    *jenkins_jobs.urlpatterns,
    *outbox.urlpatterns,
]
