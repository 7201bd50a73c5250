"""Sending pushes to APNs over HTTP/2, authenticated by the push certificate.

One long-lived connection per push certificate carries every push, many
streams at once. The connection lives on an event loop thread of its own,
so synchronous callers (background tasks) share it. A new certificate (a
renewal) is noticed on the next send and gets a new connection; nothing
needs a restart.
"""

import asyncio
import contextlib
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from trellis.apns.protocol import Notification, PushResult, read_reason


@dataclass(frozen=True)
class PushCredentials:
    """The push certificate and key; the fingerprint tells one from another."""

    fingerprint: str
    certificate_pem: str
    private_key_pem: str = field(repr=False)


class PushProvider(Protocol):
    """Anything that can deliver notifications and say what APNs answered."""

    def send(
        self, credentials: PushCredentials, notifications: Sequence[Notification]
    ) -> list[PushResult]: ...


class HTTP2Provider:
    """The APNs provider API over one multiplexed HTTP/2 connection."""

    def __init__(
        self,
        base_url: str,
        ca_file: str = "",
        concurrency: int = 100,
        expiration_seconds: int = 7 * 86400,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url
        self.ca_file = ca_file
        self.concurrency = concurrency
        self.expiration_seconds = expiration_seconds
        self.timeout = timeout
        self.connections_opened = 0
        self._client: httpx.AsyncClient | None = None
        self._fingerprint = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def send(
        self, credentials: PushCredentials, notifications: Sequence[Notification]
    ) -> list[PushResult]:
        """Send every notification concurrently; answer one result each, in order."""
        if not notifications:
            return []
        coroutine = self._send_all(credentials, notifications)
        return asyncio.run_coroutine_threadsafe(coroutine, self._event_loop()).result()

    def close(self) -> None:
        """Close the connection and stop the event loop thread."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._client is not None:
            asyncio.run_coroutine_threadsafe(self._client.aclose(), loop).result()
            self._client = None
        loop.call_soon_threadsafe(loop.stop)

    async def _send_all(
        self, credentials: PushCredentials, notifications: Sequence[Notification]
    ) -> list[PushResult]:
        client = await self._client_for(credentials)
        expiration = int(time.time()) + self.expiration_seconds
        slots = asyncio.Semaphore(self.concurrency)

        async def send_one(notification: Notification) -> PushResult:
            async with slots:
                return await self._post(client, notification, expiration)

        return list(await asyncio.gather(*(send_one(n) for n in notifications)))

    async def _post(
        self, client: httpx.AsyncClient, notification: Notification, expiration: int
    ) -> PushResult:
        try:
            response = await client.post(
                notification.path,
                content=notification.body(),
                headers=notification.headers(expiration),
            )
        except httpx.HTTPError as exc:
            # No answer: the result says so, and the caller may retry.
            return PushResult(notification, 0, type(exc).__name__)
        reason = "" if response.status_code == 200 else read_reason(response.content)
        return PushResult(
            notification,
            response.status_code,
            reason,
            response.headers.get("apns-id", ""),
        )

    async def _client_for(self, credentials: PushCredentials) -> httpx.AsyncClient:
        if self._client is not None and self._fingerprint == credentials.fingerprint:
            return self._client
        if self._client is not None:
            await self._client.aclose()
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            http2=True,
            verify=_tls_context(credentials, self.ca_file),
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self._fingerprint = credentials.fingerprint
        self.connections_opened += 1
        return self._client

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="trellis-apns", daemon=True
                )
                thread.start()
                self._loop = loop
            return self._loop


def _tls_context(credentials: PushCredentials, ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    context.set_alpn_protocols(["h2"])
    with (
        _private_file(credentials.certificate_pem) as certificate,
        _private_file(credentials.private_key_pem) as key,
    ):
        context.load_cert_chain(certificate, key)
    return context


@contextlib.contextmanager
def _private_file(text: str) -> Iterator[str]:
    """A path to the text that no other user can read, gone after use.

    ssl only loads keys from paths: an anonymous in-memory file where the
    system has them, a 0600 temporary file otherwise.
    """
    if hasattr(os, "memfd_create"):
        descriptor = os.memfd_create("trellis-apns", 0)
        try:
            os.write(descriptor, text.encode())
            yield f"/proc/self/fd/{descriptor}"
        finally:
            os.close(descriptor)
        return
    descriptor, path = tempfile.mkstemp(prefix="trellis-apns-")
    try:
        os.write(descriptor, text.encode())
        os.close(descriptor)
        yield path
    finally:
        os.unlink(path)
