from django.apps import AppConfig


class ScepConfig(AppConfig):
    name = "trellis.scep"
    label = "scep"
    verbose_name = "SCEP"
