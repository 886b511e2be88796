"""The dashboard's URLs: each page module brings its own."""

from integrations.dashboard import insight, integration_page, jenkins_jobs, portfolio

urlpatterns = [*portfolio.urlpatterns, *integration_page.urlpatterns, *insight.urlpatterns, *jenkins_jobs.urlpatterns]
