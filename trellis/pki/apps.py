from django.apps import AppConfig


class PkiConfig(AppConfig):
    name = "trellis.pki"
    label = "pki"
    verbose_name = "Certificates"
