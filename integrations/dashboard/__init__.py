"""The PM's web pages: the portfolio, my queue, one page per integration, insight, calendar and export.

Server-rendered Django templates with htmx for in-place actions; every rule comes from the same
functions the admin, Jira, Slack and the API call (``standing``, ``allowed_actions``, the services).
Each page's module holds its views and its ``urlpatterns``; ``urls`` gathers them.
"""
