from django.apps import AppConfig


class ApnsConfig(AppConfig):
    name = "trellis.apns"
    label = "apns"
    verbose_name = "Apple Push"
