from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "trellis.core"
    label = "core"
    verbose_name = "Trellis"

    def ready(self) -> None:
        from trellis.core.roles import grant_read_only_views

        post_migrate.connect(
            grant_read_only_views, dispatch_uid="trellis.core.read_only_admins"
        )
