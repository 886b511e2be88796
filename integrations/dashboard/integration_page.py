"""integration_page pages of the PM's dashboard."""

urlpatterns = []
