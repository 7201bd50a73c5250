"""gunicorn settings for `make run`, taken from Trellis's settings module."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")

from django.conf import settings

bind = [settings.TRELLIS_LISTEN]
workers = settings.TRELLIS_WEB_WORKERS
threads = settings.TRELLIS_WEB_THREADS
worker_class = "gthread"
accesslog = "-"
# The path without its query string: queries can carry what an admin typed
# into a search box, and access logs are kept longer than that deserves.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
# Connections from devices are short; keep-alive lets one TLS terminator
# reuse its upstream connections.
keepalive = 5
# Trellis is not driven through gunicorn's control socket, and two instances
# on one machine would share its default path.
control_socket_disable = True


def post_worker_init(worker: object) -> None:
    """Without a broker, each web worker runs background work on a thread."""
    if not settings.TRELLIS_TASK_BROKER_URL:
        from trellis.tasks.embedded import runner

        runner.start()
