"""The API's URLs: ``v1/`` (the router), ``schema/`` (OpenAPI) and ``docs/`` (Swagger UI, no CDN)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from integrations.api import views

router = SimpleRouter()
router.register("partners", views.PartnerViewSet, basename="api-partner")
router.register("integrations", views.IntegrationViewSet, basename="api-integration")
router.register("steps", views.StepViewSet, basename="api-step")
router.register("outbox", views.OutboxViewSet, basename="api-outbox")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="api-not-found"),
]
