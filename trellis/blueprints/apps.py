from django.apps import AppConfig


class BlueprintsConfig(AppConfig):
    name = "trellis.blueprints"
    label = "blueprints"
    verbose_name = "Blueprints"
