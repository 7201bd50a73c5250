"""Push to many device tokens through Trellis's delivery path, against a local APNs.

Usage: .venv/bin/python benchmarks/apns_push.py [--devices 10000] [--database-url URL]

It makes a throwaway data folder (SQLite unless --database-url names an empty
scratch database), installs an MDM-shaped push certificate, creates the
devices, and starts the APNs stand-in of the test suite in a process of its
own on 127.0.0.1. Then it times one delivery run, database work included,
and prints pushes per second, the TLS connections the stand-in accepted,
the most streams it saw open at once, and the peak memory of this process.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="an empty scratch database")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as scratch:
        folder = Path(scratch)
        os.environ["TRELLIS_DATA_DIR"] = str(folder / "data")
        os.environ["DATABASE_URL"] = args.database_url
        os.environ["TRELLIS_LOG_LEVEL"] = "WARNING"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
        sys.path.insert(0, str(ROOT))

        from tests.support.certificates import push_pair

        pair = push_pair()
        (folder / "push.pem").write_text(pair.certificate_pem)
        standin = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.apns_standin",
                "--trust",
                str(folder / "push.pem"),
                "--stats",
                str(folder / "stats.json"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            address = json.loads(standin.stdout.readline())  # type: ignore[union-attr]
            os.environ["TRELLIS_APNS_URL"] = address["url"]
            os.environ["TRELLIS_APNS_CA_FILE"] = address["ca_file"]
            figures = _run(args.devices, pair)
        finally:
            standin.terminate()
            standin.wait(timeout=30)
        stats = json.loads((folder / "stats.json").read_text())

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"devices                 {args.devices}")
    print(f"database                {database}")
    print(f"wall seconds            {figures['seconds']:.2f}")
    print(f"pushes per second       {args.devices / figures['seconds']:.0f}")
    print(f"outcomes                {figures['outcomes']}")
    print(f"TLS connections used    {stats['connections_opened']}")
    print(f"most streams at once    {stats['max_concurrent_streams_seen']}")
    print(f"requests at the stand-in {stats['requests']}")
    print(f"CPU seconds (client)    {figures['cpu']:.2f}")
    print(f"peak memory (client)    {figures['peak_mib']:.0f} MiB")


def _run(count: int, pair: object) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command

    from trellis.apns.delivery import push_devices
    from trellis.apns.services import install_push_certificate
    from trellis.mdm.models import Device

    call_command("migrate", verbosity=0)
    install_push_certificate(pair.certificate_pem, pair.key_pem)  # type: ignore[attr-defined]
    topic = "com.apple.mgmt.External.2b1c9d7e-61c4-4f0a-9a35-7d1c3e5f8a90"
    Device.objects.bulk_create(
        (
            Device(
                udid=f"BENCH-{n:06d}",
                status=Device.Status.ENROLLED,
                push_token=n.to_bytes(32, "big"),
                push_magic=f"MAGIC-{n:06d}",
                topic=topic,
            )
            for n in range(count)
        ),
        batch_size=2000,
    )
    ids = list(Device.objects.values_list("pk", flat=True))

    started, cpu = time.perf_counter(), time.process_time()
    report = push_devices(ids)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "cpu": cpu,
        "outcomes": report.outcomes,
        "peak_mib": peak,
    }


if __name__ == "__main__":
    main()
