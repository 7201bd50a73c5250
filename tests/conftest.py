"""Fixtures shared by the whole suite."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.apns_standin import ApnsStandIn
from tests.support.certificates import PushPair, push_pair
from tests.support.devices import DeviceFactory
from tests.support.server import RunningServer, open_for_enrollment, running_server
from trellis.apns.services import install_push_certificate
from trellis.blueprints.models import Blueprint
from trellis.blueprints.services import create_blueprint
from trellis.enrollment.services import set_portal_enabled
from trellis.mdm.identity import trusted_certificates
from trellis.pki.authority import forget_cached_identities

CLOSED_LOOPBACK = "https://127.0.0.1:9"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the CA and keys of the test run in a folder of its own."""
    path = tmp_path_factory.mktemp("trellis-data")
    original = settings.TRELLIS_DATA_DIR
    settings.TRELLIS_DATA_DIR = path
    # Pushes go nowhere but loopback: tests that look at them start a stand-in.
    settings.TRELLIS_APNS_URL = CLOSED_LOOPBACK
    forget_cached_identities()
    trusted_certificates.clear()
    yield path
    settings.TRELLIS_DATA_DIR = original
    forget_cached_identities()


@pytest.fixture
def own_data_dir(settings, tmp_path: Path) -> Iterator[Path]:
    """A data folder (CA, keys, generated secret key) for this test alone."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    settings.TRELLIS_DATA_DIR = folder
    settings.TRELLIS_SECRET_KEYS = []
    forget_cached_identities()
    yield folder
    forget_cached_identities()


@pytest.fixture
def push_certificate(db: None) -> PushPair:
    """A valid MDM push certificate, installed."""
    pair = push_pair()
    install_push_certificate(pair.certificate_pem, pair.key_pem)
    return pair


@pytest.fixture
def open_portal(push_certificate: PushPair) -> PushPair:
    """The portal switched on, with a valid push certificate installed."""
    set_portal_enabled(True)
    return push_certificate


@pytest.fixture
def blueprint(db: None) -> Blueprint:
    """A Blueprint that allows enrollment."""
    return create_blueprint("Staff Macs", enrollment_enabled=True)


@pytest.fixture
def admin_user(db: None):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(
        "root", "", "correct horse battery"
    )


@pytest.fixture
def api(admin_user) -> APIClient:
    """An API client authenticated with an admin's token."""
    client = APIClient()
    token = Token.objects.create(user=admin_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def devices(open_portal: PushPair, blueprint: Blueprint) -> DeviceFactory:
    """Make simulated devices that enroll in-process into `blueprint`."""
    return DeviceFactory(blueprint)


@pytest.fixture(scope="session")
def apns_standin() -> Iterator[ApnsStandIn]:
    """A local APNs for servers the tests start; tests trust their push certificates."""
    with ApnsStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def trellis_server(
    tmp_path_factory: pytest.TempPathFactory, apns_standin: ApnsStandIn
) -> Iterator[RunningServer]:
    """Trellis started with `make run`, with its own data folder and database."""
    data_dir = tmp_path_factory.mktemp("server-data")
    with running_server(data_dir, apns_standin.url, apns_standin.ca_file) as server:
        yield server


@pytest.fixture(scope="module")
def ready_server(
    trellis_server: RunningServer,
    apns_standin: ApnsStandIn,
    request: pytest.FixtureRequest,
) -> tuple[RunningServer, dict[str, object]]:
    """The `make run` server with a push certificate, an open portal, a Blueprint."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    blueprint = open_for_enrollment(trellis_server, name, trust=apns_standin)
    return trellis_server, blueprint


@pytest.fixture
def shared_fixtures() -> Path:
    """The shared fixtures folder beside the checkout; skip where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(
            f"shared fixtures not found at {SHARED} (only present beside a checkout)"
        )
    return SHARED / "fixtures"
