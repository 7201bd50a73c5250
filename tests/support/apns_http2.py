"""The APNs stand-in's HTTP/2 side: scripted outcomes, recorded requests, and
the protocol that serves one client connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from cryptography import x509

from tests.support.apns_tls import MemoryTls

if TYPE_CHECKING:
    from tests.support.apns_standin import ApnsStandIn

REFUSAL_LINGER = 1.0


@dataclass(frozen=True)
class Outcome:
    """One scripted answer: a status, an APNs reason, and an optional delay."""

    status: int
    reason: str | None = None
    timestamp_ms: int | None = None
    delay: float = 0.0

    def after(self, delay: float) -> Outcome:
        """Return this outcome answered after `delay` seconds."""
        return replace(self, delay=delay)


OK = Outcome(200)


BAD_DEVICE_TOKEN = Outcome(400, "BadDeviceToken")


BAD_CERTIFICATE = Outcome(403, "BadCertificate")


UNREGISTERED = Outcome(410, "Unregistered")


TOO_MANY_REQUESTS = Outcome(429, "TooManyRequests")


INTERNAL_SERVER_ERROR = Outcome(500, "InternalServerError")


SERVICE_UNAVAILABLE = Outcome(503, "ServiceUnavailable")


def unregistered(timestamp_ms: int | None = None) -> Outcome:
    """Return a 410 Unregistered outcome stamped with `timestamp_ms` (default now)."""
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    return replace(UNREGISTERED, timestamp_ms=timestamp_ms)


@dataclass(frozen=True)
class Recorded:
    """One request as the stand-in received it."""

    client_serial: int
    connection_id: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    token: str | None
    at: float


@dataclass
class _Stream:
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    timer: asyncio.TimerHandle | None = None
    unsent: bytes = b""
    answered: bool = False


class ClientConnection(asyncio.Protocol):
    """One client connection: TLS, then HTTP/2."""

    def __init__(self, standin: ApnsStandIn) -> None:
        self.standin = standin
        self.transport: asyncio.Transport | None = None
        self.tls = MemoryTls(standin._context)
        self.streams: dict[int, _Stream] = {}
        self.closed = asyncio.Event()
        self.connection_id = 0
        self.client_serial = 0
        self.refused = False
        self.linger: asyncio.TimerHandle | None = None
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=config)
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: (
                    standin.max_concurrent_streams
                ),
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 64 * 1024,
            },
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.standin._connection_made(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.linger is not None:
            self.linger.cancel()
        for stream in self.streams.values():
            if stream.timer is not None:
                stream.timer.cancel()
        self.streams.clear()
        self.standin._connection_lost(self)
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        was_established = self.tls.established
        try:
            plain = self.tls.receive(data)
        except ssl.SSLError:
            self._refuse(counted=not was_established)
            return
        self._send_wire()
        if self.tls.established and not was_established and not self._begin():
            return
        if plain:
            self._http2_received(plain)
        if self.tls.peer_closed:
            self._close()

    def close(self) -> None:
        """Say GOAWAY and close the connection."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.tls.established:
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.h2.close_connection()
        self._close()

    def abort(self) -> None:
        """Drop the connection at once."""
        if self.transport is not None:
            self.transport.abort()

    def _begin(self) -> bool:
        der = self.tls.session.getpeercert(binary_form=True)
        if der is None or self.tls.session.selected_alpn_protocol() != "h2":
            self._close()
            return False
        self.client_serial = x509.load_der_x509_certificate(der).serial_number
        self.connection_id = self.standin._connection_opened()
        self.h2.initiate_connection()
        self._flush()
        return True

    def _refuse(self, counted: bool) -> None:
        # The wire still holds the TLS alert that tells the client why. Under TLS
        # 1.3 the client is already sending requests; closing at once would answer
        # them with a reset that destroys the alert, so half-close and linger.
        self._send_wire()
        self.refused = True
        if counted:
            self.standin._handshake_refused()
        if self.transport is None or self.transport.is_closing():
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()
        loop = asyncio.get_running_loop()
        self.linger = loop.call_later(REFUSAL_LINGER, self.abort)

    def _http2_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            # h2 queues a GOAWAY itself for bad frames, but not for a bad preface.
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.h2.close_connection(h2.errors.ErrorCodes.PROTOCOL_ERROR)
            self._close()
            return
        for event in events:
            self._dispatch(event)
        self._flush()

    def _close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._flush()
        if self.tls.established:
            self.tls.close_notify()
        self._send_wire()
        self.transport.close()

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.tls.established:
            self.tls.send(data)
            self._send_wire()

    def _send_wire(self) -> None:
        data = self.tls.wire()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _dispatch(self, event: h2.events.Event) -> None:
        match event:
            case h2.events.RequestReceived():
                self._request_received(event)
            case h2.events.DataReceived():
                self._data(event)
            case h2.events.StreamEnded():
                self._stream_ended(event.stream_id)
            case h2.events.StreamReset():
                self._forget(event.stream_id)
            case h2.events.WindowUpdated():
                self._window_updated(event.stream_id)
            case h2.events.RemoteSettingsChanged():
                self._window_updated(0)
            case h2.events.ConnectionTerminated():
                self._close()

    def _request_received(self, event: h2.events.RequestReceived) -> None:
        headers = [(str(name), str(value)) for name, value in event.headers or []]
        self.streams[event.stream_id] = _Stream(headers)
        self.standin._streams_open(len(self.streams))

    def _data(self, event: h2.events.DataReceived) -> None:
        # Acknowledge at once, even for streams already forgotten, so that the
        # connection window never drains.
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self.h2.acknowledge_received_data(
                event.flow_controlled_length, event.stream_id
            )
        stream = self.streams.get(event.stream_id)
        if stream is not None and event.data:
            stream.body += event.data

    def _stream_ended(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        request = self.standin._record(self, stream.headers, bytes(stream.body))
        outcome = self.standin._outcome_for(request)
        apns_id = request.headers.get("apns-id") or str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        stream.timer = loop.call_later(
            max(outcome.delay, 0.0), self._answer, stream_id, outcome, apns_id
        )

    def _answer(self, stream_id: int, outcome: Outcome, apns_id: str) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or self.transport is None or self.transport.is_closing():
            return
        stream.timer = None
        headers = [(":status", str(outcome.status)), ("apns-id", apns_id)]
        body = error_body(outcome)
        if body:
            headers += [
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
            ]
        try:
            self.h2.send_headers(stream_id, headers, end_stream=not body)
        except h2.exceptions.ProtocolError:
            self._forget(stream_id)
            return
        stream.answered = True
        stream.unsent = body
        self._send_body(stream_id)
        self._flush()

    def _send_body(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or not stream.answered:
            return
        try:
            while stream.unsent:
                room = min(
                    self.h2.local_flow_control_window(stream_id),
                    self.h2.max_outbound_frame_size,
                    len(stream.unsent),
                )
                if room <= 0:
                    return
                chunk, stream.unsent = stream.unsent[:room], stream.unsent[room:]
                self.h2.send_data(stream_id, chunk, end_stream=not stream.unsent)
        except h2.exceptions.ProtocolError:
            pass
        self._forget(stream_id)

    def _window_updated(self, stream_id: int) -> None:
        targets = list(self.streams) if stream_id == 0 else [stream_id]
        for target in targets:
            self._send_body(target)

    def _forget(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id, None)
        if stream is not None and stream.timer is not None:
            stream.timer.cancel()


def error_body(outcome: Outcome) -> bytes:
    if outcome.status == 200 or outcome.reason is None:
        return b""
    payload: dict[str, str | int] = {"reason": outcome.reason}
    if outcome.timestamp_ms is not None:
        payload["timestamp"] = outcome.timestamp_ms
    return json.dumps(payload, separators=(",", ":")).encode()


def request_parts(headers: list[tuple[str, str]]) -> tuple[str, str, dict[str, str]]:
    pseudo: dict[str, str] = {}
    regular: dict[str, str] = {}
    for name, value in headers:
        if name.startswith(":"):
            pseudo[name] = value
        elif name.lower() in regular:
            regular[name.lower()] += ", " + value
        else:
            regular[name.lower()] = value
    return pseudo.get(":method", ""), pseudo.get(":path", ""), regular
