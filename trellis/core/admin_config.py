"""Django's admin app, serving Trellis's admin site."""

from django.contrib.admin.apps import AdminConfig


class TrellisAdminConfig(AdminConfig):
    default_site = "trellis.core.admin_site.TrellisAdminSite"
