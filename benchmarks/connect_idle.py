"""CPU that Trellis and its database spend on one idle connect.

Usage: .venv/bin/python benchmarks/connect_idle.py [--requests 3000] [--postgres URL]

Trellis runs as `make run` does (gunicorn, one worker process and thread so
the figure is per request, not per core), against SQLite or, with
--postgres, a scratch database created on that server and dropped after. One
simulated device enrolls; then the same signed Idle connect (nothing queued)
is sent over one keep-alive connection. The figure is the CPU time the
operating system accounted to the web worker and, for PostgreSQL, to the
database backends, divided by the number of requests.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument(
        "--postgres", default="", help="postgres://user@host:port (no db)"
    )
    args = parser.parse_args()
    os.environ["TRELLIS_WEB_WORKERS"] = "1"
    os.environ["TRELLIS_WEB_THREADS"] = "1"
    os.environ["TRELLIS_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")

    import django

    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as scratch:
        os.environ["TRELLIS_DATA_DIR"] = str(Path(scratch) / "client")
        if args.postgres:
            os.environ["DATABASE_URL"] = f"{args.postgres.rstrip('/')}/postgres"
        django.setup()
        from tests.support.server import running_server

        with running_server(Path(scratch) / "server") as server:
            figures = _measure(server, args.requests)

    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"requests                 {args.requests}")
    print(f"database                 {database}")
    print(f"requests per second      {figures['rate']:.0f} (one worker, one thread)")
    print(f"web worker CPU ms/req    {figures['web']:.3f}")
    print(f"database CPU ms/req      {figures['db']:.3f}")
    print(f"server + database ms/req {figures['web'] + figures['db']:.3f}")


def _measure(server, count: int) -> dict[str, float]:
    import base64
    import plistlib

    import httpx

    from tests.support.server import open_for_enrollment
    from trellis.pki.cms import sign_detached
    from trellis.simulator.device import SimulatedDevice
    from trellis.simulator.personas import make_persona
    from trellis.simulator.profile import read_enrollment_profile
    from trellis.simulator.run import download_profile

    code = open_for_enrollment(server, "Bench")["enrollment_code"]

    with httpx.Client(timeout=30) as client:
        profile = read_enrollment_profile(
            download_profile(client, f"{server.url}/enroll", code)
        )
        device = SimulatedDevice(make_persona("mac", 1), profile, client)
        device.enroll()
        device.run_commands()
        body = plistlib.dumps({"UDID": device.persona.udid, "Status": "Idle"})
        headers = {
            "Content-Type": "application/x-apple-aspen-mdm",
            "Mdm-Signature": base64.b64encode(
                sign_detached(body, device.certificate, device.key)
            ).decode(),
        }
        for _ in range(200):  # warm up: connections, caches
            assert (
                client.put(
                    profile.server_url, content=body, headers=headers
                ).status_code
                == 200
            )

        workers = _gunicorn_workers(server)
        backends = _postgres_backends(server.env.get("DATABASE_URL", ""))
        before_web, before_db = _cpu(workers), _cpu(backends)
        started = time.perf_counter()
        for _ in range(count):
            client.put(profile.server_url, content=body, headers=headers)
        elapsed = time.perf_counter() - started
        web, db = _cpu(workers) - before_web, _cpu(backends) - before_db
    return {"rate": count / elapsed, "web": web / count * 1000, "db": db / count * 1000}


def _gunicorn_workers(server) -> list[int]:
    """The gunicorn worker processes of this server (children of its master)."""
    workers = []
    for pid in _pids():
        cmdline = _read(f"/proc/{pid}/cmdline").replace("\0", " ")
        environ = _read(f"/proc/{pid}/environ")
        if "gunicorn" in cmdline and server.url.rsplit(":", 1)[1] in environ:
            stat = _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
            parent = int(stat[1])
            if "gunicorn" in _read(f"/proc/{parent}/cmdline"):
                workers.append(pid)
    return workers


def _postgres_backends(database_url: str) -> list[int]:
    """The PostgreSQL backends serving the server's database (none for SQLite)."""
    if not database_url:
        return []
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url) as connection:
        query = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        rows = connection.execute(query, [name]).fetchall()
    return [row[0] for row in rows]


def _cpu(pids: list[int]) -> float:
    """Seconds of user and system CPU the processes have used."""
    total = 0
    for pid in pids:
        fields = _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
