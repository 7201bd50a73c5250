"""Enrolling many simulated devices at once."""

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from trellis.simulator.device import SimulatedDevice
from trellis.simulator.personas import FAMILIES, make_persona
from trellis.simulator.profile import read_enrollment_profile


@dataclass(frozen=True)
class Outcome:
    """What happened to one simulated device."""

    index: int
    udid: str
    family: str
    commands: tuple[str, ...]
    error: str | None


def download_profile(client: httpx.Client, portal_url: str, code: str) -> bytes:
    """Download an enrollment profile from the portal with a code, as a person does."""
    response = client.post(portal_url, data={"code": code})
    if response.status_code != 200 or "aspen-config" not in response.headers.get(
        "content-type", ""
    ):
        raise RuntimeError(
            f"the portal did not hand out a profile (status {response.status_code})"
        )
    return response.content


def simulate(
    profile_sources: Iterator[Callable[[httpx.Client], bytes]],
    count: int,
    families: tuple[str, ...] = FAMILIES,
    concurrency: int = 20,
    scep_method: str = "POST",
    timeout: float = 30.0,
) -> list[Outcome]:
    """Enroll `count` devices, each from its own profile, `concurrency` at a time."""
    family_cycle = itertools.cycle(families)
    jobs = [
        (index, next(family_cycle), next(profile_sources))
        for index in range(1, count + 1)
    ]
    with httpx.Client(timeout=timeout) as client:

        def run_one(job: tuple[int, str, Callable[[httpx.Client], bytes]]) -> Outcome:
            index, family, source = job
            persona = make_persona(family, index)
            try:
                profile = read_enrollment_profile(source(client))
                device = SimulatedDevice(
                    persona, profile, client, scep_method=scep_method
                )
                device.enroll()
                commands = device.run_commands()
            except (
                Exception
            ) as exc:  # report every failure; one device must not stop the rest
                return Outcome(
                    index, persona.udid, family, (), f"{type(exc).__name__}: {exc}"
                )
            return Outcome(index, persona.udid, family, tuple(commands), None)

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            return list(pool.map(run_one, jobs))
