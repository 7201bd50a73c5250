from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "trellis.simulator"
    label = "simulator"
    verbose_name = "Device simulator"
