"""Trellis's addresses, grouped by who calls them."""

from django.contrib import admin
from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from trellis.apns.api import PushCertificateRequestView, PushCertificateView
from trellis.blueprints.api import BlueprintViewSet
from trellis.core.api import ApiRoot
from trellis.core.views import healthz
from trellis.enrollment.api import EnrollmentPortalLockView, EnrollmentPortalView
from trellis.enrollment.views import portal, portal_missing
from trellis.library.api import ProfileViewSet
from trellis.mdm import views as mdm_views
from trellis.mdm.api import DeviceViewSet
from trellis.scep.views import scep

router = SimpleRouter(trailing_slash=True)
router.register("blueprints", BlueprintViewSet, basename="blueprint")
router.register("devices", DeviceViewSet, basename="device")
router.register("library/profiles", ProfileViewSet, basename="library-profile")

api_urls = [
    path("", ApiRoot.as_view(), name="api-root"),
    path(
        "enrollment-portal/", EnrollmentPortalView.as_view(), name="enrollment-portal"
    ),
    path(
        "enrollment-portal/lock/",
        EnrollmentPortalLockView.as_view(locked=True),
        name="enrollment-portal-lock",
    ),
    path(
        "enrollment-portal/unlock/",
        EnrollmentPortalLockView.as_view(locked=False),
        name="enrollment-portal-unlock",
    ),
    path("apns/certificate/", PushCertificateView.as_view(), name="apns-certificate"),
    path("apns/csr/", PushCertificateRequestView.as_view(), name="apns-csr"),
    *router.urls,
]

urlpatterns = [
    # People: the enrollment portal.
    re_path(r"^enroll/?$", portal, name="portal"),
    re_path(r"^enroll/(?P<rest>.+)$", portal_missing),
    # Devices: SCEP and the MDM protocol.
    path("scep", scep, name="scep"),
    path("mdm/checkin", mdm_views.checkin, name="mdm-checkin"),
    path("mdm/connect", mdm_views.connect, name="mdm-connect"),
    # Admins.
    path("api/v1/", include(api_urls)),
    path("admin/", admin.site.urls),
    # Operators.
    path("healthz", healthz, name="healthz"),
]
