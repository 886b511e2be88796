"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

from integrations.jenkins import views as jenkins_views
from integrations.jira import views as jira_views

admin.site.site_header = "TradingView integrations"
admin.site.site_title = "Integrations"
admin.site.index_title = "Broker & exchange integration roadmap"

urlpatterns = [
    path("", include("integrations.dashboard.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("partner/", include("integrations.stage.urls")),
    path("api/", include("integrations.api.urls")),
    path("hooks/jira/", jira_views.webhook, name="jira-webhook"),
    path("hooks/jenkins/", jenkins_views.webhook, name="jenkins-webhook"),
    path("hooks/slack/", include("notifications.urls")),
]
