"""The APNs stand-in, driven by a real HTTP/2 client over TLS."""

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.apns_standin import (
    BAD_DEVICE_TOKEN,
    OK,
    SERVICE_UNAVAILABLE,
    TOO_MANY_REQUESTS,
    ApnsStandIn,
    unregistered,
)
from tests.support.certificates import push_pair

TOKEN = "a1" * 32
OTHER_TOKEN = "b2" * 32
TOPIC = "com.apple.mgmt.External.test-topic"


@dataclass(frozen=True)
class ClientIdentity:
    certificate: x509.Certificate
    cert_file: str
    key_file: str


def make_identity(folder: Path, name: str) -> ClientIdentity:
    """Make a self-signed client certificate and key, written to `folder`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return write_identity(folder, name, certificate, key)


def write_identity(
    folder: Path, name: str, certificate: x509.Certificate, key: rsa.RSAPrivateKey
) -> ClientIdentity:
    """Write a certificate and key to PEM files in `folder`."""
    cert_file = folder / f"{name}.pem"
    key_file = folder / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ClientIdentity(certificate, str(cert_file), str(key_file))


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClientIdentity]:
    """A trusted and an untrusted client identity."""
    folder = tmp_path_factory.mktemp("apns-clients")
    return {name: make_identity(folder, name) for name in ("trusted", "stranger")}


@pytest.fixture
def identity(identities: dict[str, ClientIdentity]) -> ClientIdentity:
    return identities["trusted"]


@pytest.fixture
def apns(identity: ClientIdentity) -> Iterator[ApnsStandIn]:
    with ApnsStandIn([identity.certificate]) as standin:
        yield standin


def client_context(
    standin: ApnsStandIn, identity: ClientIdentity | None
) -> ssl.SSLContext:
    """Trust the stand-in's CA and present `identity`, if any."""
    context = ssl.create_default_context(cafile=standin.ca_file)
    if identity is not None:
        context.load_cert_chain(identity.cert_file, identity.key_file)
    return context


def client(standin: ApnsStandIn, identity: ClientIdentity | None) -> httpx.Client:
    return httpx.Client(
        http2=True,
        verify=client_context(standin, identity),
        base_url=standin.url,
        timeout=5,
    )


def push(http: httpx.Client, token: str = TOKEN, **headers: str) -> httpx.Response:
    return http.post(
        f"/3/device/{token}",
        headers={"apns-topic": TOPIC, "apns-push-type": "mdm", **headers},
        content=b'{"mdm":"magic"}',
    )


def test_request_is_recorded_and_answered(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    apns_id = "9f7c2a54-6c1e-4a8e-b1f3-2d7e0c5a1b39"
    with client(apns, identity) as http:
        echoed = push(http, **{"apns-id": apns_id})
        fresh = push(http)

    assert echoed.http_version == "HTTP/2"
    assert (echoed.status_code, echoed.headers["apns-id"]) == (200, apns_id)
    assert echoed.content == b""
    assert fresh.status_code == 200
    assert len(fresh.headers["apns-id"]) == 36
    assert fresh.headers["apns-id"] != apns_id
    first, second = apns.recorded
    assert first.method == "POST"
    assert first.path == f"/3/device/{TOKEN}"
    assert first.token == TOKEN
    assert first.headers["apns-topic"] == TOPIC
    assert first.headers["apns-push-type"] == "mdm"
    assert first.headers["apns-id"] == apns_id
    assert not any(name.startswith(":") for name in first.headers)
    assert first.body == b'{"mdm":"magic"}'
    assert first.client_serial == identity.certificate.serial_number
    assert first.connection_id == second.connection_id
    assert first.at <= second.at
    assert apns.connections_opened == 1


def test_scripted_unregistered_comes_back_once(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    apns.script(TOKEN, unregistered(1_700_000_000_000))
    with client(apns, identity) as http:
        gone = push(http)
        other = push(http, OTHER_TOKEN)
        again = push(http)

    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/json"
    assert gone.headers["apns-id"]
    assert gone.json() == {"reason": "Unregistered", "timestamp": 1_700_000_000_000}
    assert (other.status_code, again.status_code) == (200, 200)


def test_script_all_serves_tokens_without_their_own_script(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    apns.script(TOKEN, BAD_DEVICE_TOKEN)
    apns.script_all(TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE)
    with client(apns, identity) as http:
        answers = [push(http, token) for token in (TOKEN, OTHER_TOKEN, TOKEN, TOKEN)]

    assert [(a.status_code, json.loads(a.content or b"{}")) for a in answers] == [
        (400, {"reason": "BadDeviceToken"}),
        (429, {"reason": "TooManyRequests"}),
        (503, {"reason": "ServiceUnavailable"}),
        (200, {}),
    ]


async def push_many(
    standin: ApnsStandIn, identity: ClientIdentity, count: int
) -> list[httpx.Response]:
    async with httpx.AsyncClient(
        http2=True,
        verify=client_context(standin, identity),
        base_url=standin.url,
        timeout=5,
    ) as http:
        return await asyncio.gather(
            *(
                http.post(f"/3/device/{index:064x}", content=b'{"mdm":"magic"}')
                for index in range(count)
            )
        )


def test_concurrent_requests_share_one_connection(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    # Every answer waits, so the streams are open at the same moment.
    apns.script_all(*[OK.after(0.2)] * 50)
    answers = asyncio.run(push_many(apns, identity, 50))

    assert [a.status_code for a in answers] == [200] * 50
    assert all(a.http_version == "HTTP/2" for a in answers)
    assert apns.connections_opened == 1
    assert len({r.connection_id for r in apns.recorded}) == 1
    assert apns.max_concurrent_streams_seen > 1


def test_advertised_stream_limit_is_honoured(identity: ClientIdentity) -> None:
    with ApnsStandIn([identity.certificate], max_concurrent_streams=4) as apns:
        apns.script_all(*[OK.after(0.05)] * 12)
        answers = asyncio.run(push_many(apns, identity, 12))

        assert [a.status_code for a in answers] == [200] * 12
        assert apns.connections_opened == 1
        assert 1 < apns.max_concurrent_streams_seen <= 4


def test_large_body_is_flow_controlled(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    body = bytes(range(256)) * 1024  # larger than the initial 64 KiB window
    with client(apns, identity) as http:
        answer = http.post(f"/3/device/{TOKEN}", content=body)

    assert answer.status_code == 200
    assert apns.recorded[0].body == body


def test_bad_path_and_method_are_refused(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    with client(apns, identity) as http:
        bad_path = http.post("/3/device/not-hex", content=b"{}")
        no_token = http.post("/3/device/", content=b"{}")
        get = http.get(f"/3/device/{TOKEN}")

    assert (bad_path.status_code, bad_path.json()) == (400, {"reason": "BadPath"})
    assert (no_token.status_code, no_token.json()) == (400, {"reason": "BadPath"})
    assert (get.status_code, get.json()) == (405, {"reason": "MethodNotAllowed"})
    assert [r.token for r in apns.recorded] == [None, None, TOKEN]


def raw_tls(
    standin: ApnsStandIn, identity: ClientIdentity, protocols: list[str]
) -> ssl.SSLSocket:
    """Open a bare TLS connection offering the given ALPN protocols."""
    context = client_context(standin, identity)
    context.set_alpn_protocols(protocols)
    raw = socket.create_connection(("127.0.0.1", standin.port), timeout=5)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def read_until_closed(connection: ssl.SSLSocket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_broken_clients_do_not_stop_the_server(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    with raw_tls(apns, identity, ["h2"]) as garbage:
        garbage.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = read_until_closed(garbage)
    # The server's SETTINGS, then a GOAWAY frame (length 8, type 7) saying
    # PROTOCOL_ERROR (1), then the end of the connection.
    assert received[-17:-8] == b"\x00\x00\x08\x07" + bytes(5)
    assert int.from_bytes(received[-4:]) == 1
    with raw_tls(apns, identity, ["http/1.1"]) as old_fashioned:
        assert old_fashioned.selected_alpn_protocol() is None
        assert read_until_closed(old_fashioned) == b""
    with client(apns, identity) as http:
        assert push(http).status_code == 200

    assert apns.connections_opened == 2


# Under TLS 1.3 the client finishes its side of the handshake before the server
# has judged its certificate, so the refusal arrives on the first read.
REFUSALS = {
    ssl.TLSVersion.TLSv1_2: httpx.ConnectError,
    ssl.TLSVersion.TLSv1_3: httpx.ReadError,
}


@pytest.mark.parametrize(
    ("version", "presented", "alert"),
    [
        (ssl.TLSVersion.TLSv1_3, None, "CERTIFICATE_REQUIRED"),
        (ssl.TLSVersion.TLSv1_3, "stranger", "UNKNOWN_CA"),
        (ssl.TLSVersion.TLSv1_2, None, "HANDSHAKE_FAILURE"),
        (ssl.TLSVersion.TLSv1_2, "stranger", "UNKNOWN_CA"),
    ],
)
def test_client_without_a_trusted_certificate_is_refused(
    identities: dict[str, ClientIdentity],
    version: ssl.TLSVersion,
    presented: str | None,
    alert: str,
) -> None:
    trusted = identities["trusted"].certificate
    presenting = identities[presented] if presented else None
    with (
        ApnsStandIn([trusted], maximum_tls_version=version) as apns,
        client(apns, presenting) as http,
        pytest.raises(REFUSALS[version], match=alert),
    ):
        push(http)

    assert apns.recorded == []
    assert (apns.connections_opened, apns.handshakes_refused) == (0, 1)


def test_push_certificate_from_the_suite_is_accepted(tmp_path: Path) -> None:
    pair = push_pair()
    identity = write_identity(tmp_path, "push", pair.certificate, pair.key)
    with ApnsStandIn() as apns:
        apns.trust_client_issuer(pair.certificate_pem)
        with client(apns, identity) as http:
            answer = push(http)

        assert answer.status_code == 200
        assert apns.recorded[0].client_serial == pair.certificate.serial_number


def test_httpx_cert_argument_still_works(
    apns: ApnsStandIn, identity: ClientIdentity
) -> None:
    verify = ssl.create_default_context(cafile=apns.ca_file)
    with pytest.warns(DeprecationWarning, match="cert"):
        http = httpx.Client(
            http2=True,
            verify=verify,
            cert=(identity.cert_file, identity.key_file),
            timeout=5,
        )
    with http:
        answer = http.post(f"{apns.url}/3/device/{TOKEN}", content=b"{}")

    assert answer.status_code == 200
    assert apns.recorded[0].client_serial == identity.certificate.serial_number


def _standin_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "apns-standin"}


def test_stop_closes_open_connections(identity: ClientIdentity) -> None:
    # The session's shared stand-in may be running in this process already.
    already_running = _standin_threads()
    apns = ApnsStandIn([identity.certificate]).start()
    assert len(_standin_threads() - already_running) == 1
    with client(apns, identity) as http:
        assert push(http).status_code == 200
        apns.stop()

        with pytest.raises(httpx.TransportError):
            push(http)
    assert _standin_threads() == already_running


def test_listens_on_loopback_only(apns: ApnsStandIn) -> None:
    assert apns.url == f"https://127.0.0.1:{apns.port}"
    assert apns.port > 0
