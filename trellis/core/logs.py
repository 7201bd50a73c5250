"""Log lines that values from outside cannot forge."""

import logging

_ESCAPES = {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    **{c: f"\\x{c:02x}" for c in range(32) if c not in (9, 10, 13)},
}


class KeyValueFormatter(logging.Formatter):
    """Escape line breaks and control characters in the message.

    Messages carry values devices and clients choose (a UDID, a SCEP
    transaction ID); escaping them keeps one event on one line, so no value
    can write a second, forged line. Tracebacks keep their line breaks.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.translate(_ESCAPES)
        return super().formatMessage(record)
