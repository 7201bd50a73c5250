from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "trellis.enrollment"
    label = "enrollment"
    verbose_name = "Enrollment"
