"""Believable device identities: what a Mac, an iPhone or an iPad reports."""

import random
import secrets
import string
import uuid
from dataclasses import dataclass

_SERIAL_ALPHABET = (
    string.ascii_uppercase.replace("I", "").replace("O", "") + string.digits
)

# (product name, model, model name, OS version, build) per family.
_MODELS = {
    "mac": [
        ("Mac15,3", "Mac15,3", "MacBook Pro", "15.1", "24B83"),
        ("Mac14,2", "Mac14,2", "MacBook Air", "14.7", "23H124"),
        ("Mac16,10", "Mac16,10", "Mac mini", "15.2", "24C101"),
    ],
    "iphone": [
        ("iPhone16,2", "D84AP", "iPhone", "18.1", "22B83"),
        ("iPhone15,4", "D37AP", "iPhone", "17.6.1", "21G93"),
    ],
    "ipad": [
        ("iPad14,3", "J617AP", "iPad", "18.1", "22B83"),
        ("iPad13,18", "J272AP", "iPad", "17.7", "21H16"),
    ],
}

FAMILIES = tuple(_MODELS)


@dataclass(frozen=True)
class Persona:
    """The fixed facts a simulated device reports about itself."""

    family: str
    udid: str
    serial_number: str
    product_name: str
    model: str
    model_name: str
    os_version: str
    build_version: str
    device_name: str


def make_persona(family: str, index: int, rng: random.Random | None = None) -> Persona:
    """Answer a new persona of the family; index names it ("Simulated Mac 3")."""
    chooser = rng or random.SystemRandom()
    product, model, model_name, os_version, build = chooser.choice(_MODELS[family])
    if family == "mac":
        udid = str(uuid.uuid4()).upper()
    else:
        udid = f"00008{secrets.randbelow(1000):03d}-{secrets.token_hex(8).upper()}"
    serial = "".join(chooser.choice(_SERIAL_ALPHABET) for _ in range(10))
    label = {"mac": "Mac", "iphone": "iPhone", "ipad": "iPad"}[family]
    return Persona(
        family=family,
        udid=udid,
        serial_number=serial,
        product_name=product,
        model=model,
        model_name=model_name,
        os_version=os_version,
        build_version=build,
        device_name=f"Simulated {label} {index}",
    )
