"""Simulated devices that enroll in-process, for protocol tests."""

import random

import httpx

from tests.support.transport import in_process_client
from trellis.blueprints.models import Blueprint
from trellis.simulator.device import SimulatedDevice
from trellis.simulator.personas import make_persona
from trellis.simulator.profile import read_enrollment_profile
from trellis.simulator.run import download_profile


class DeviceFactory:
    """Downloads a profile per device from the portal and plays the device."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.client: httpx.Client = in_process_client()
        self.count = 0
        self.rng = random.Random(1)

    def profile_bytes(self, code: str | None = None) -> bytes:
        """Download an enrollment profile for the Blueprint's current code."""
        code = code or self.blueprint.current_code.code
        return download_profile(self.client, "/enroll", code)

    def new(self, family: str = "mac", code: str | None = None) -> SimulatedDevice:
        """A device holding a freshly downloaded profile, not yet enrolled."""
        self.count += 1
        profile = read_enrollment_profile(self.profile_bytes(code))
        persona = make_persona(family, self.count, self.rng)
        return SimulatedDevice(persona, profile, self.client)

    def enrolled(self, family: str = "mac") -> SimulatedDevice:
        """A device that has run SCEP, Authenticate and TokenUpdate."""
        device = self.new(family)
        device.enroll()
        return device
