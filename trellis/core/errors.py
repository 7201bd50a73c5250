"""Errors that carry their HTTP status, mapped to responses in one place.

Devices get a bare status code; ``trellis.core.middleware`` does the mapping.
"""


class ProtocolError(Exception):
    """A request from a device or client that Trellis refuses."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadMessage(ProtocolError):
    """The body could not be read as the message it claims to be."""

    status = 400


class Refused(ProtocolError):
    """The request's identity is not acceptable.

    The status is 403 with an empty body. Apple devices unenroll themselves on
    a 401, or on a 403 whose body is an ErrorUnrecognizedDevice document; a
    bare 403 leaves a genuine device enrolled, so a forged or stale request
    cannot make a real device drop its management.
    """

    status = 403


class Gone(ProtocolError):
    """The message type is understood but not served (user channels)."""

    status = 410


class TooLarge(ProtocolError):
    """The body is larger than this endpoint accepts."""

    status = 413


class SecretsUnavailable(Exception):
    """A secret at rest cannot be decrypted with the configured keys.

    A server fault, not the client's: the answer is 503 with a short
    message, and the log says which secret and where the keys came from,
    never the keys themselves.
    """

    status = 503
