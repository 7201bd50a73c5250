"""Play Apple devices enrolling into Trellis, for testing and load."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.simulator.personas import FAMILIES
from trellis.simulator.run import Outcome, download_profile, simulate


class Command(BaseCommand):
    help = (
        "Enroll simulated Macs, iPhones and iPads: SCEP, Authenticate, TokenUpdate, "
        "then answer queued commands. Each device needs its own profile (a profile's "
        "challenge works once), so give one --profile per device, or --portal and "
        "--code to download a fresh profile for each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--profile",
            action="append",
            type=Path,
            default=[],
            help="An enrollment profile file; repeat for more devices.",
        )
        parser.add_argument(
            "--portal", help="The portal address, e.g. http://127.0.0.1:8000/enroll"
        )
        parser.add_argument(
            "--code", help="The enrollment code to type into the portal."
        )
        parser.add_argument(
            "--count", type=int, help="Number of devices (default: one per profile)."
        )
        parser.add_argument("--family", choices=[*FAMILIES, "mixed"], default="mixed")
        parser.add_argument("--concurrency", type=int, default=20)
        parser.add_argument("--scep-method", choices=["POST", "GET"], default="POST")
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON line per device."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources, count = self._sources(options)
        families = FAMILIES if options["family"] == "mixed" else (options["family"],)
        outcomes = simulate(
            sources,
            count,
            families=families,
            concurrency=options["concurrency"],
            scep_method=options["scep_method"],
        )
        failed = [o for o in outcomes if o.error]
        for outcome in outcomes:
            if options["json"]:
                self.stdout.write(
                    json.dumps(outcome.__dict__ | {"commands": list(outcome.commands)})
                )
            elif outcome.error:
                self.stdout.write(f"{self._label(outcome)}  FAILED {outcome.error}")
            else:
                self.stdout.write(
                    f"{self._label(outcome)}  enrolled, "
                    f"answered {', '.join(outcome.commands) or 'nothing'}"
                )
        summary = f"{len(outcomes) - len(failed)} of {len(outcomes)} devices enrolled."
        # With --json, standard output holds only JSON lines.
        (self.stderr if options["json"] else self.stdout).write(summary)
        if failed:
            raise CommandError(f"{len(failed)} device(s) failed to enroll")

    @staticmethod
    def _label(outcome: Outcome) -> str:
        return f"{outcome.index:4} {outcome.family:7} {outcome.udid}"

    def _sources(
        self, options: dict[str, Any]
    ) -> tuple[Iterator[Callable[[httpx.Client], bytes]], int]:
        if options["count"] is not None and options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        profiles: list[Path] = options["profile"]
        if profiles and options["portal"]:
            raise CommandError(
                "Give either --profile or --portal with --code, not both."
            )
        if profiles:
            count = options["count"] or len(profiles)
            if count > len(profiles):
                raise CommandError(
                    f"{count} devices need {count} profiles: "
                    "each profile's challenge works once."
                )
            try:
                blobs = [path.read_bytes() for path in profiles[:count]]
            except OSError as exc:
                raise CommandError(f"Cannot read the profile: {exc}") from exc
            return iter([lambda _client, blob=blob: blob for blob in blobs]), count
        if options["portal"] and options["code"]:
            portal, code = options["portal"], options["code"]
            count = options["count"] or 1

            def fresh(client: httpx.Client) -> bytes:
                return download_profile(client, portal, code)

            return iter([fresh] * count), count
        raise CommandError("Give --profile FILE, or --portal URL with --code CODE.")
