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


class WithoutTraceback(logging.Filter):
    """Keep the one-line reason, drop the traceback.

    Django logs each suspicious request (a forged Host header, a malformed
    cookie) with the traceback of the exception that stopped it. Anyone on
    the network can cause those, so a traceback apiece would let them fill
    the log with pages of text saying nothing new.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
