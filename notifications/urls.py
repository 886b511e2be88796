"""Slack's requests to the product: /hooks/slack/..."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("interactivity", views.interactivity, name="slack-interactivity"),
]
