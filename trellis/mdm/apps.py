from django.apps import AppConfig


class MdmConfig(AppConfig):
    name = "trellis.mdm"
    label = "mdm"
    verbose_name = "Devices"
