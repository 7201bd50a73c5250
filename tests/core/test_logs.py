import logging

from trellis.core.logs import KeyValueFormatter


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
