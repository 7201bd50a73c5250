import logging

from trellis.core.logs import KeyValueFormatter, WithoutTraceback


def test_values_cannot_forge_a_second_log_line() -> None:
    formatter = KeyValueFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord(
        "trellis.scep",
        logging.WARNING,
        __file__,
        1,
        "refused transaction_id=%s",
        ("X\n2026-01-01 level=INFO logger=trellis forged\r\x1b[2J",),
        None,
    )
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line.endswith(
        "transaction_id=X\\n2026-01-01 level=INFO logger=trellis forged\\r\\x1b[2J"
    )


def test_a_forged_host_is_logged_in_one_line(client) -> None:
    import io

    (handler,) = [
        handler
        for handler in logging.getLogger("django.security").handlers
        if any(isinstance(f, WithoutTraceback) for f in handler.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client.get("/enroll/", HTTP_HOST="attacker.invalid")
    finally:
        handler.setStream(previous)
    assert response.status_code == 400
    logged = stream.getvalue()
    assert "DisallowedHost" in logged and "attacker.invalid" in logged
    assert "Traceback" not in logged
    assert logged.count("\n") == 1


def test_the_access_log_leaves_out_query_strings() -> None:
    from trellis import gunicorn_conf

    fields = gunicorn_conf.access_log_format
    assert "%(U)s" in fields
    assert "%(r)s" not in fields and "%(q)s" not in fields
