"""The dashboard's URLs: each page module brings its own."""

from integrations.dashboard import insight, integration_page, partner_team, portfolio

urlpatterns = [*portfolio.urlpatterns, *integration_page.urlpatterns, *insight.urlpatterns, *partner_team.urlpatterns]
