"""portfolio pages of the PM's dashboard."""

urlpatterns = []
