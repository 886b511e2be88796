"""URLs of this part of the product."""

urlpatterns = []
