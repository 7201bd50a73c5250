from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "trellis.tasks"
    label = "tasks"
    verbose_name = "Background work"
