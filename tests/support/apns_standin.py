"""A local stand-in for Apple's APNs HTTP/2 provider API, for tests and benchmarks.

It listens on 127.0.0.1 only, speaks HTTP/2 over TLS (ALPN "h2"), demands a client
certificate, records every request and answers as scripted. TLS runs over memory
buffers rather than asyncio's own SSL transport, which drops the alert that tells
a refused client why.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from tests.support.apns_http2 import (
    BAD_CERTIFICATE,
    BAD_DEVICE_TOKEN,
    INTERNAL_SERVER_ERROR,
    OK,
    SERVICE_UNAVAILABLE,
    TOO_MANY_REQUESTS,
    UNREGISTERED,
    ClientConnection,
    Outcome,
    Recorded,
    request_parts,
    unregistered,
)
from tests.support.apns_tls import (
    HOST,
    CertificateLike,
    as_pem,
    key_pem,
    make_authority,
    make_server_certificate,
    pem,
    server_context,
)

__all__ = [
    "BAD_CERTIFICATE",
    "BAD_DEVICE_TOKEN",
    "INTERNAL_SERVER_ERROR",
    "OK",
    "SERVICE_UNAVAILABLE",
    "TOO_MANY_REQUESTS",
    "UNREGISTERED",
    "ApnsStandIn",
    "Outcome",
    "Recorded",
    "unregistered",
]


DEVICE_PATH = re.compile(r"/3/device/(?P<token>[0-9A-Fa-f]+)")


SHUTDOWN_GRACE = 1.0


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
        self._context = server_context(maximum_tls_version)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._recorded: list[Recorded] = []
        self._scripts: dict[str, deque[Outcome]] = {}
        self._script_all: deque[Outcome] = deque()
        self._connections: set[ClientConnection] = set()
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
        self._context.load_verify_locations(cadata=as_pem(certificate))

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
        authority, authority_key = make_authority()
        certificate, key = make_server_certificate(authority, authority_key)
        (folder / "ca.pem").write_bytes(pem(authority))
        (folder / "server.pem").write_bytes(pem(certificate) + pem(authority))
        (folder / "server.key").write_bytes(key_pem(key))
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
                loop.create_server(lambda: ClientConnection(self), HOST, 0)
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

    def _connection_made(self, connection: ClientConnection) -> None:
        self._connections.add(connection)

    def _connection_lost(self, connection: ClientConnection) -> None:
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
        self, connection: ClientConnection, headers: list[tuple[str, str]], body: bytes
    ) -> Recorded:
        method, path, regular = request_parts(headers)
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
