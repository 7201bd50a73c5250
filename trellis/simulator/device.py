"""A simulated Apple device: SCEP, check-in and connect, as a real one does them.

Message keys follow Apple's check-in and command schemas. A Mac reports
DeviceName, Model and ModelName at Authenticate; an iPhone or iPad does not
(the schema marks them n/a on iOS) and sends an UnlockToken instead.
"""

import base64
import logging
import os
import plistlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from trellis.pki.cms import sign_detached
from trellis.scep.client import build_csr, build_pkcs_req, read_cert_rep
from trellis.scep.protocol import PKIStatus
from trellis.simulator.personas import Persona
from trellis.simulator.profile import (
    EnrollmentProfile,
    ProfileError,
    read_enrollment_profile,
)

logger = logging.getLogger(__name__)


class SimulationError(RuntimeError):
    """The server did not answer as a device expects."""


@dataclass
class SimulatedDevice:
    """One device, its keys and what it has been told."""

    persona: Persona
    profile: EnrollmentProfile
    client: httpx.Client
    scep_method: str = "POST"
    scep_cipher: str = "aes128_cbc"
    key: rsa.RSAPrivateKey | None = None
    certificate: x509.Certificate | None = None
    push_magic: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    push_token: bytes = field(default_factory=lambda: os.urandom(32))
    handled: list[str] = field(default_factory=list)
    # Commands this device answers NotNow, as a locked iPhone or a Mac in
    # Power Nap does.
    not_now_for: set[str] = field(default_factory=set)

    def enroll(self) -> None:
        """Install the profile: SCEP identity, Authenticate, TokenUpdate."""
        self.obtain_identity()
        self.expect(self.checkin(self.authenticate_message()), 200, "Authenticate")
        self.expect(self.checkin(self.token_update_message()), 200, "TokenUpdate")

    def obtain_identity(
        self, profile: EnrollmentProfile | None = None
    ) -> x509.Certificate:
        """Get an identity certificate over SCEP with the profile's challenge."""
        profile = profile or self.profile
        url = profile.scep_url
        caps = self.client.get(url, params={"operation": "GetCACaps"})
        self.expect(caps, 200, "GetCACaps")
        ca_response = self.client.get(url, params={"operation": "GetCACert"})
        self.expect(ca_response, 200, "GetCACert")
        ca_certificate = x509.load_der_x509_certificate(ca_response.content)

        key = rsa.generate_private_key(65537, profile.key_size)
        csr = build_csr(key, profile.subject, profile.challenge)
        message, pending = build_pkcs_req(
            csr, key, ca_certificate, cipher=self.scep_cipher
        )
        if self.scep_method == "POST" and "POSTPKIOperation" in caps.text:
            response = self.client.post(
                url, params={"operation": "PKIOperation"}, content=message
            )
        else:
            encoded = base64.b64encode(message).decode()
            response = self.client.get(
                url, params={"operation": "PKIOperation", "message": encoded}
            )
        self.expect(response, 200, "PKIOperation")
        reply = read_cert_rep(response.content, pending, ca_certificate)
        if reply.status != PKIStatus.SUCCESS or reply.certificate is None:
            raise SimulationError(
                f"SCEP refused: status {reply.status} failInfo {reply.fail_info}"
            )
        self.key, self.certificate = key, reply.certificate
        return reply.certificate

    def authenticate_message(self) -> dict[str, Any]:
        persona = self.persona
        message = {
            "MessageType": "Authenticate",
            "Topic": self.profile.topic,
            "UDID": persona.udid,
            "OSVersion": persona.os_version,
            "BuildVersion": persona.build_version,
            "ProductName": persona.product_name,
            "SerialNumber": persona.serial_number,
        }
        if persona.family == "mac":
            message.update(
                DeviceName=persona.device_name,
                Model=persona.model,
                ModelName=persona.model_name,
            )
        return message

    def token_update_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "MessageType": "TokenUpdate",
            "Topic": self.profile.topic,
            "UDID": self.persona.udid,
            "Token": self.push_token,
            "PushMagic": self.push_magic,
            "AwaitingConfiguration": False,
        }
        if self.persona.family == "mac":
            message["NotOnConsole"] = False
        else:
            message["UnlockToken"] = os.urandom(64)
        return message

    def checkout_message(self) -> dict[str, Any]:
        return {
            "MessageType": "CheckOut",
            "Topic": self.profile.topic,
            "UDID": self.persona.udid,
        }

    def checkin(self, message: dict[str, Any]) -> httpx.Response:
        """PUT a check-in message, signed like the device's MDM client signs it."""
        return self._put(
            self.profile.checkin_url, message, "application/x-apple-aspen-mdm-checkin"
        )

    def connect(self, status: str = "Idle", **fields: Any) -> httpx.Response:
        """PUT a connect message to the server URL."""
        message = {"UDID": self.persona.udid, "Status": status, **fields}
        return self._put(
            self.profile.server_url, message, "application/x-apple-aspen-mdm"
        )

    def run_commands(self, limit: int = 100) -> list[str]:
        """Connect and answer commands until the queue is empty; answer their types."""
        response = self.connect("Idle")
        done: list[str] = []
        while response.status_code == 200 and response.content and len(done) < limit:
            command = plistlib.loads(response.content)
            status, answer = self.answer(command["Command"])
            done.append(command["Command"]["RequestType"])
            response = self.connect(
                status, CommandUUID=command["CommandUUID"], **answer
            )
        self.expect(response, 200, "connect")
        self.handled.extend(done)
        return done

    def answer(self, command: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Answer one command as the device would: a status and result fields."""
        request_type = command.get("RequestType")
        if request_type in self.not_now_for:
            return "NotNow", {}
        if request_type == "InstallProfile":
            return self.install_profile(command)
        if request_type in {
            "SecurityInfo",
            "RestartDevice",
            "ShutDownDevice",
            "DeviceLock",
            "ClearPasscode",
            "DeviceConfigured",
        }:
            return "Acknowledged", {}
        if request_type == "DeviceInformation":
            return "Acknowledged", {"QueryResponses": self.query_responses(command)}
        if request_type in {
            "ProfileList",
            "InstalledApplicationList",
            "CertificateList",
        }:
            # Each of these answers under a key named like the command.
            return "Acknowledged", {request_type: []}
        return "Error", _error(12021, f"Unknown command {request_type}")

    def install_profile(self, command: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Install a profile; this server's enrollment profile renews the identity."""
        try:
            profile = read_enrollment_profile(bytes(command.get("Payload", b"")))
        except ProfileError:
            return "Acknowledged", {}  # a profile of settings: nothing to simulate
        if (
            profile.server_url != self.profile.server_url
            or profile.topic != self.profile.topic
        ):
            return "Error", _error(4001, "The profile is for another MDM server")
        try:
            self.obtain_identity(profile)
        except (SimulationError, ValueError) as exc:
            return "Error", _error(4002, f"SCEP failed: {exc}")
        self.profile = profile
        return "Acknowledged", {}

    def query_responses(self, command: dict[str, Any]) -> dict[str, Any]:
        persona = self.persona
        known = {
            "DeviceName": persona.device_name,
            "Model": persona.model,
            "ModelName": persona.model_name,
            "ProductName": persona.product_name,
            "SerialNumber": persona.serial_number,
            "OSVersion": persona.os_version,
            "BuildVersion": persona.build_version,
            "UDID": persona.udid,
        }
        queries = command.get("Queries") or list(known)
        return {name: known[name] for name in queries if name in known}

    def expect(self, response: httpx.Response, status: int, step: str) -> None:
        if response.status_code != status:
            got = response.status_code
            raise SimulationError(
                f"{self.persona.udid}: {step} answered {got}, expected {status}"
            )

    def _put(
        self, url: str, message: dict[str, Any], content_type: str
    ) -> httpx.Response:
        body = plistlib.dumps(message)
        headers = {"Content-Type": content_type}
        if self.profile.sign_message:
            if self.certificate is None or self.key is None:
                raise SimulationError("no identity yet: run SCEP first")
            signature = sign_detached(body, self.certificate, self.key)
            headers["Mdm-Signature"] = base64.b64encode(signature).decode()
        return self.client.put(url, content=body, headers=headers)


def _error(code: int, description: str) -> dict[str, Any]:
    return {
        "ErrorChain": [
            {
                "ErrorCode": code,
                "ErrorDomain": "MCMDMErrorDomain",
                "LocalizedDescription": description,
            }
        ]
    }
