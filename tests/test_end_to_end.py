"""The whole path a new admin takes, against Trellis started with `make run`.

Set-up through the API, a profile downloaded with curl and checked with
openssl, an identity from micromdm's scepclient, then twenty simulated
devices enrolling at once.
"""

import json
import plistlib
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.openssl import cms_verify
from tests.support.server import RunningServer
from trellis.simulator.profile import read_enrollment_profile

# The tests follow one another on one server (devices enrolled by one are
# pushed in the next), so they must all run in one test process.
pytestmark = [pytest.mark.thirdparty, pytest.mark.xdist_group("end_to_end")]


@pytest.fixture(scope="module")
def prepared(ready_server) -> tuple[RunningServer, dict]:
    return ready_server


def _curl_profile(server: RunningServer, code: str, target: Path) -> None:
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--data-urlencode",
            f"code={code}",
            "--output",
            str(target),
            "--write-out",
            "%{content_type}",
            f"{server.url}/enroll",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "application/x-apple-aspen-config"


def test_curl_download_verifies_with_openssl(prepared, tmp_path: Path) -> None:
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    server, blueprint = prepared
    _curl_profile(
        server, blueprint["enrollment_code"].lower(), tmp_path / "p.mobileconfig"
    )

    result = cms_verify(
        tmp_path / "p.mobileconfig",
        server.data_dir / "pki" / "ca.crt",
        tmp_path / "p.plist",
    )
    assert result.returncode == 0, result.stderr
    profile = plistlib.loads((tmp_path / "p.plist").read_bytes())
    assert profile["PayloadType"] == "Configuration"


def test_scepclient_gets_a_certificate_once(prepared, tmp_path: Path) -> None:
    if not shutil.which("scepclient"):
        pytest.fail(
            "scepclient is missing: install the Debian package scep "
            "(scripts/system-deps)"
        )
    server, blueprint = prepared
    profile_bytes = httpx.post(
        f"{server.url}/enroll", data={"code": blueprint["enrollment_code"]}
    ).content
    challenge = read_enrollment_profile(profile_bytes).challenge

    def scepclient(workdir: Path) -> subprocess.CompletedProcess[str]:
        workdir.mkdir()
        # scepclient reuses csr.pem and self.pem from its working folder:
        # give it an empty one.
        return subprocess.run(
            [
                "scepclient",
                "-server-url",
                f"{server.url}/scep",
                "-challenge",
                challenge,
                "-private-key",
                str(workdir / "key.pem"),
                "-certificate",
                str(workdir / "cert.pem"),
                "-cn",
                "scepclient test",
            ],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    first = scepclient(tmp_path / "first")
    assert first.returncode == 0, first.stdout + first.stderr
    issued = subprocess.run(
        [
            "openssl",
            "verify",
            "-CAfile",
            str(server.data_dir / "pki" / "ca.crt"),
            str(tmp_path / "first" / "cert.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert issued.returncode == 0, issued.stdout + issued.stderr

    second = scepclient(tmp_path / "second")
    assert second.returncode != 0
    assert "badRequest" in second.stdout + second.stderr
    assert not (tmp_path / "second" / "cert.pem").exists()


@pytest.fixture(scope="module")
def simulated(prepared) -> subprocess.CompletedProcess[str]:
    """Twenty devices enrolled at once by the simulator, once per test process.

    Tests that look at these devices take this fixture rather than relying
    on another test having run first in the same process.
    """
    server, blueprint = prepared
    return server.manage(
        "simulate_devices",
        "--portal",
        f"{server.url}/enroll",
        "--code",
        blueprint["enrollment_code"],
        "--count",
        "20",
        "--concurrency",
        "20",
        "--json",
    )


def test_twenty_simulated_devices_enroll_concurrently(prepared, simulated) -> None:
    server, blueprint = prepared
    result = simulated
    assert result.returncode == 0, result.stdout + result.stderr
    outcomes = [
        json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")
    ]
    assert len(outcomes) == 20
    assert all(o["error"] is None for o in outcomes)
    names = {o["udid"]: o for o in outcomes}

    with server.api() as api:
        listed = api.get("/devices/", params={"blueprint": blueprint["id"]}).json()
    rows = {row["udid"]: row for row in listed["results"] if row["udid"] in names}
    assert len(rows) == 20
    for udid, row in rows.items():
        assert row["status"] == "enrolled"
        assert row["blueprint"] == blueprint["id"]
        assert row["name"].startswith("Simulated ")
        assert row["name"].endswith(f" {names[udid]['index']}")
        assert row["device_family"] == names[udid]["family"]


def test_enrolled_devices_were_pushed_by_the_background_runner(
    prepared, simulated, apns_standin
) -> None:
    server, blueprint = prepared
    with server.api() as api:
        rows = api.get("/devices/", params={"blueprint": blueprint["id"]}).json()[
            "results"
        ]
    assert rows
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with server.api() as api:
            rows = api.get("/devices/", params={"blueprint": blueprint["id"]}).json()[
                "results"
            ]
        if all(row["last_push_outcome"] == "delivered" for row in rows):
            break
        time.sleep(0.5)
    assert {row["last_push_outcome"] for row in rows} == {"delivered"}
    pushes = [
        r for r in apns_standin.recorded if r.headers.get("apns-push-type") == "mdm"
    ]
    assert len({r.token for r in pushes}) >= len(rows)
    assert all(json.loads(r.body).keys() == {"mdm"} for r in pushes)


def test_nothing_answered_with_a_server_error(prepared) -> None:
    server, _ = prepared
    log = server.log.read_text()
    assert '" 500 ' not in log
    assert "Traceback" not in log


def test_the_first_start_encrypts_keys_under_a_generated_key(trellis_server) -> None:
    keys = trellis_server.data_dir / "secret-keys"
    log = trellis_server.log.read_text()

    assert keys.stat().st_mode & 0o777 == 0o600
    for name in ("ca.key", "profile-signer.key"):
        stored = (trellis_server.data_dir / "pki" / name).read_bytes()
        assert b"PRIVATE KEY" not in stored
    assert f"generated into {keys}" in log
    assert "only protects against a leak of the database alone" in log
    assert keys.read_text().strip() not in log
