"""The partner's URLs, under /partner/."""

from django.urls import path

from integrations.stage import calendar, views

urlpatterns = [
    path("", views.integration_list, name="stage-list"),
    path("home/", views.home, name="stage-home"),
    path("integrations/<int:pk>/", views.stage_page, name="stage-page"),
    path("steps/<int:pk>/do/<slug:action>/", views.step_action, name="stage-step-action"),
    path("steps/<int:pk>/comments/", views.comment, name="stage-step-comment"),
    path("integrations/<int:pk>/handovers/url/", views.handover_url, name="stage-handover-url"),
    path("integrations/<int:pk>/handovers/checks/", views.handover_checks, name="stage-handover-checks"),
    path("integrations/<int:pk>/handovers/beta-testers/", views.beta_testers, name="stage-beta-testers"),
    path("integrations/<int:pk>/handovers/sheet/<slug:part>/", views.auth_sheet, name="stage-auth-sheet"),
    path("integrations/<int:pk>/team/", views.team_add, name="stage-team-add"),
    path("integrations/<int:pk>/team/<int:member_pk>/", views.team_edit, name="stage-team-edit"),
    path("integrations/<int:pk>/team/<int:member_pk>/remove/", views.team_remove, name="stage-team-remove"),
    path("integrations/<int:pk>/team/invite/", views.team_invite, name="stage-team-invite"),
    path("integrations/<int:pk>/calendar/", views.calendar_create, name="stage-calendar-create"),
    path("integrations/<int:pk>/calendar/<int:feed_pk>/revoke/", views.calendar_revoke, name="stage-calendar-revoke"),
    path("integrations/<int:pk>/holidays/", views.holidays, name="stage-holidays"),
    path("link/<str:token>/", views.magic_link, name="stage-magic-link"),
    path("session-ended/", views.session_ended, name="stage-session-ended"),
    path("calendar/<str:token>.ics", calendar.partner_calendar, name="stage-calendar"),
]
