"""Trellis started exactly as the README says (`make run`), for end-to-end tests.

The server gets a data folder of its own and, when the suite runs against
PostgreSQL, a database of its own, dropped afterwards.
"""

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "e2e-" + secrets.token_hex(8)


@dataclass(frozen=True)
class RunningServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    token: str
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Token {self.token}"},
            timeout=30,
        )

    def manage(
        self, *args: str, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_database() -> Iterator[str]:
    """Answer the server's DATABASE_URL: empty (SQLite) or a new PostgreSQL database."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        yield ""
        return
    import psycopg

    name = f"trellis_e2e_{secrets.token_hex(4)}"
    params = {
        "host": database["HOST"] or "127.0.0.1",
        "port": database["PORT"] or 5432,
        "user": database["USER"],
        "password": database["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    user = database["USER"]
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    try:
        yield f"postgres://{user}{password}@{params['host']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(**params) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_server(
    data_dir: Path,
    apns_url: str = "https://127.0.0.1:9",
    apns_ca_file: str = "",
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningServer]:
    """Run `make run` in the background until the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server_database() as database_url:
        env = {
            **os.environ,
            "TRELLIS_DATA_DIR": str(data_dir),
            "TRELLIS_BASE_URL": url,
            "TRELLIS_LISTEN": f"127.0.0.1:{port}",
            "TRELLIS_ADMIN_USER": "admin",
            "TRELLIS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "TRELLIS_WEB_WORKERS": "2",
            "TRELLIS_APNS_URL": apns_url,
            "TRELLIS_APNS_CA_FILE": apns_ca_file,
            "DATABASE_URL": database_url,
            **(extra_env or {}),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        log = data_dir / "server.log"
        with open(log, "w") as output:
            process = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_healthy(url, process, log)
            token = _admin_token(env)
            yield RunningServer(url, data_dir, env, token, log)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`make run` exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"Trellis did not become healthy:\n{log.read_text()}")


def _admin_token(env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "drf_create_token", "admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().split()[2]


def open_for_enrollment(
    server: RunningServer, blueprint_name: str, trust: object = None
) -> dict[str, object]:
    """Install a push certificate, open the portal and create a Blueprint.

    ``trust`` is an APNs stand-in that must accept the certificate. Answers
    the Blueprint as the API shows it.
    """
    from tests.support.certificates import push_pair

    pair = push_pair()
    if trust is not None:
        trust.trust_client_issuer(pair.certificate)  # type: ignore[attr-defined]
    with server.api() as api:
        api.put(
            "/apns/certificate/",
            json={"certificate": pair.certificate_pem, "private_key": pair.key_pem},
        ).raise_for_status()
        api.patch("/enrollment-portal/", json={"enabled": True}).raise_for_status()
        created = api.post(
            "/blueprints/", json={"name": blueprint_name, "enrollment_enabled": True}
        )
        created.raise_for_status()
        return created.json()
