from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "trellis.library"
    label = "library"
    verbose_name = "Library"
