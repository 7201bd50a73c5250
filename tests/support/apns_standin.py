"""A local stand-in for Apple's APNs HTTP/2 provider API, for tests and benchmarks.

It listens on 127.0.0.1 only, speaks HTTP/2 over TLS (ALPN "h2"), demands a client
certificate, records every request and answers as scripted. TLS runs over memory
buffers rather than asyncio's own SSL transport, which drops the alert that tells
a refused client why.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import re
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
DEVICE_PATH = re.compile(r"/3/device/(?P<token>[0-9A-Fa-f]+)")
SHUTDOWN_GRACE = 1.0
REFUSAL_LINGER = 1.0

CertificateLike = str | bytes | x509.Certificate


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


def _as_pem(certificate: CertificateLike) -> str:
    if isinstance(certificate, x509.Certificate):
        certificate = certificate.public_bytes(serialization.Encoding.PEM)
    if isinstance(certificate, bytes):
        if not certificate.lstrip().startswith(b"-----"):
            certificate = x509.load_der_x509_certificate(certificate).public_bytes(
                serialization.Encoding.PEM
            )
        certificate = certificate.decode("ascii")
    return certificate


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    )


def _make_authority() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("APNs stand-in test CA")
    certificate = (
        _builder("APNs stand-in test CA", name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _make_server_certificate(
    authority: x509.Certificate, authority_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
    certificate = (
        _builder("localhost", authority.subject, key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                authority_key.public_key()
            ),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    return certificate, key


def _server_context(maximum_version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = maximum_version
    context.verify_mode = ssl.CERT_REQUIRED
    # Lets a trusted certificate that is not self-issued (as push certificates in
    # tests are) stand as its own anchor.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.options |= ssl.OP_NO_RENEGOTIATION
    context.set_alpn_protocols(["h2"])
    return context


@dataclass
class _Stream:
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    timer: asyncio.TimerHandle | None = None
    unsent: bytes = b""
    answered: bool = False


class _Tls:
    """Server-side TLS over memory buffers, so that refusals reach the client."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.session = context.wrap_bio(
            self._incoming, self._outgoing, server_side=True
        )
        self.established = False
        self.peer_closed = False

    def receive(self, data: bytes) -> bytes:
        """Take bytes off the wire and return the application data they complete."""
        self._incoming.write(data)
        if not self.established:
            try:
                self.session.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self.established = True
        chunks: list[bytes] = []
        while chunk := self._read():
            chunks.append(chunk)
        return b"".join(chunks)

    def send(self, data: bytes) -> None:
        """Encrypt application data for the wire."""
        view = memoryview(data)
        while view:
            view = view[self.session.write(view) :]

    def close_notify(self) -> None:
        """Queue a TLS close_notify for the wire."""
        with contextlib.suppress(ssl.SSLError):
            self.session.unwrap()

    def wire(self) -> bytes:
        """Return the bytes waiting to go to the client."""
        return self._outgoing.read()

    def _read(self) -> bytes:
        try:
            return self.session.read(65536)
        except ssl.SSLWantReadError:
            return b""
        except ssl.SSLZeroReturnError:
            self.peer_closed = True
            return b""


class _Connection(asyncio.Protocol):
    """One client connection: TLS, then HTTP/2."""

    def __init__(self, standin: ApnsStandIn) -> None:
        self.standin = standin
        self.transport: asyncio.Transport | None = None
        self.tls = _Tls(standin._context)
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
        body = _error_body(outcome)
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


def _error_body(outcome: Outcome) -> bytes:
    if outcome.status == 200 or outcome.reason is None:
        return b""
    payload: dict[str, str | int] = {"reason": outcome.reason}
    if outcome.timestamp_ms is not None:
        payload["timestamp"] = outcome.timestamp_ms
    return json.dumps(payload, separators=(",", ":")).encode()


def _request_parts(headers: list[tuple[str, str]]) -> tuple[str, str, dict[str, str]]:
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


class ApnsStandIn:
    """An APNs-like HTTP/2 server on 127.0.0.1, run in a thread of its own."""

    def __init__(
        self,
        client_issuers: Iterable[CertificateLike] = (),
        *,
        max_concurrent_streams: int = 1000,
        maximum_tls_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
    ) -> None:
        self.max_concurrent_streams = max_concurrent_streams
        self.connections_opened = 0
        self.handshakes_refused = 0
        self.max_concurrent_streams_seen = 0
        self._context = _server_context(maximum_tls_version)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._recorded: list[Recorded] = []
        self._scripts: dict[str, deque[Outcome]] = {}
        self._script_all: deque[Outcome] = deque()
        self._connections: set[_Connection] = set()
        self._connection_ids = itertools.count(1)
        self._folder: Path | None = None
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        for issuer in client_issuers:
            self.trust_client_issuer(issuer)

    # Lifecycle

    def __enter__(self) -> ApnsStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Return the base URL, "https://127.0.0.1:<port>"."""
        self._require_running()
        return f"https://{HOST}:{self._port}"

    @property
    def port(self) -> int:
        """Return the port listened on."""
        self._require_running()
        return self._port

    @property
    def ca_file(self) -> str:
        """Return the path of the PEM file holding the CA that signed the server."""
        self._require_running()
        assert self._folder is not None
        return str(self._folder / "ca.pem")

    def start(self) -> ApnsStandIn:
        """Make the certificates, bind a free port and serve in a background thread."""
        if self._thread is not None:
            return self
        self._folder = Path(tempfile.mkdtemp(prefix="apns-standin-"))
        self._write_certificates(self._folder)
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="apns-standin", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            self._remove_folder()
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every connection, stop the thread and remove the certificates."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(
                timeout=SHUTDOWN_GRACE + 5
            )
        finally:
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._remove_folder()

    # Trust and scripts

    def trust_client_issuer(self, certificate: CertificateLike) -> None:
        """Accept client certificates issued by (or equal to) `certificate`."""
        self._context.load_verify_locations(cadata=_as_pem(certificate))

    def script(self, token: str, *outcomes: Outcome) -> None:
        """Queue outcomes for requests to `token`, each used once, in order."""
        with self._lock:
            self._scripts.setdefault(token.lower(), deque()).extend(outcomes)

    def script_all(self, *outcomes: Outcome) -> None:
        """Queue outcomes for requests to any token without a script of its own."""
        with self._lock:
            self._script_all.extend(outcomes)

    # What happened

    @property
    def recorded(self) -> list[Recorded]:
        """Return a snapshot of the requests recorded so far, oldest first."""
        with self._lock:
            return list(self._recorded)

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._recorded.clear()

    def reset(self) -> None:
        """Forget recorded requests and unused scripts, and zero the counters."""
        with self._lock:
            self._recorded.clear()
            self._scripts.clear()
            self._script_all.clear()
            self.connections_opened = 0
            self.handshakes_refused = 0
            self.max_concurrent_streams_seen = 0

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """Wait until at least `count` requests are recorded, and return them."""
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: len(self._recorded) >= count, timeout
            ):
                raise TimeoutError(
                    f"{len(self._recorded)} of {count} requests arrived in {timeout}s"
                )
            return list(self._recorded)

    # Inside the server thread

    def _require_running(self) -> None:
        if self._thread is None:
            raise RuntimeError("the APNs stand-in is not running; call start()")

    def _write_certificates(self, folder: Path) -> None:
        authority, authority_key = _make_authority()
        certificate, key = _make_server_certificate(authority, authority_key)
        (folder / "ca.pem").write_bytes(_pem(authority))
        (folder / "server.pem").write_bytes(_pem(certificate) + _pem(authority))
        (folder / "server.key").write_bytes(_key_pem(key))
        self._context.load_cert_chain(folder / "server.pem", folder / "server.key")

    def _remove_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), HOST, 0)
            )
        except BaseException as error:
            failure.append(error)
            loop.close()
            ready.set()
            return
        self._port = self._server.sockets[0].getsockname()[1]
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close()
        waiters = [asyncio.create_task(c.closed.wait()) for c in connections]
        if waiters:
            await asyncio.wait(waiters, timeout=SHUTDOWN_GRACE)
        for waiter in waiters:
            waiter.cancel()
        for connection in connections:
            connection.abort()
        # Lets the aborted transports report connection_lost before the loop stops.
        await asyncio.sleep(0)
        if self._server is not None:
            await self._server.wait_closed()

    def _connection_made(self, connection: _Connection) -> None:
        self._connections.add(connection)

    def _connection_lost(self, connection: _Connection) -> None:
        self._connections.discard(connection)

    def _connection_opened(self) -> int:
        with self._lock:
            self.connections_opened += 1
            return next(self._connection_ids)

    def _handshake_refused(self) -> None:
        with self._lock:
            self.handshakes_refused += 1

    def _streams_open(self, count: int) -> None:
        with self._lock:
            self.max_concurrent_streams_seen = max(
                self.max_concurrent_streams_seen, count
            )

    def _record(
        self, connection: _Connection, headers: list[tuple[str, str]], body: bytes
    ) -> Recorded:
        method, path, regular = _request_parts(headers)
        match = DEVICE_PATH.fullmatch(path)
        request = Recorded(
            client_serial=connection.client_serial,
            connection_id=connection.connection_id,
            method=method,
            path=path,
            headers=regular,
            body=body,
            token=match["token"] if match else None,
            at=time.monotonic(),
        )
        with self._arrived:
            self._recorded.append(request)
            self._arrived.notify_all()
        return request

    def _outcome_for(self, request: Recorded) -> Outcome:
        if request.method != "POST":
            return Outcome(405, "MethodNotAllowed")
        if request.token is None:
            return Outcome(400, "BadPath")
        with self._lock:
            queue = self._scripts.get(request.token.lower())
            if queue:
                return queue.popleft()
            if self._script_all:
                return self._script_all.popleft()
        return OK


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in in the foreground until SIGTERM; write its counters on exit.

    It prints one JSON line with its address and CA file. Benchmarks run it in
    a process of its own so that it does not share the client's interpreter.
    """
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(prog="python -m tests.support.apns_standin")
    parser.add_argument(
        "--trust", action="append", default=[], help="client certificate PEM"
    )
    parser.add_argument(
        "--stats", type=Path, help="write counters here as JSON on exit"
    )
    parser.add_argument("--max-concurrent-streams", type=int, default=1000)
    args = parser.parse_args(argv)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    issuers = [Path(path).read_text() for path in args.trust]
    with ApnsStandIn(
        issuers, max_concurrent_streams=args.max_concurrent_streams
    ) as standin:
        print(json.dumps({"url": standin.url, "ca_file": standin.ca_file}), flush=True)
        stopping.wait()
        stats = {
            "connections_opened": standin.connections_opened,
            "max_concurrent_streams_seen": standin.max_concurrent_streams_seen,
            "requests": len(standin.recorded),
        }
    if args.stats:
        args.stats.write_text(json.dumps(stats))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
