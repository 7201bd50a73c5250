"""Declarative management check-ins, answered while Trellis has no declarations.

Keys follow Apple's declarative protocol schemas (tokens, declaration-items,
status). A device asking gets a valid, empty manifest, so it stays content;
the tokens stay the same until Trellis has declarations to send.
"""

import hashlib
from typing import Any

from trellis.mdm.protocol import Answer

# Declarations are versioned by this token; with none, it never changes.
EMPTY_DECLARATIONS_TOKEN = hashlib.sha256(b"trellis: no declarations").hexdigest()[:32]
EMPTY_TIMESTAMP = "2026-01-01T00:00:00Z"


def declarative_answer(endpoint: str) -> Answer:
    """Answer a DeclarativeManagement check-in's endpoint."""
    if endpoint == "tokens":
        return Answer.json({"SyncTokens": _tokens()})
    if endpoint == "declaration-items":
        return Answer.json(
            {
                "Declarations": {
                    "Activations": [],
                    "Assets": [],
                    "Configurations": [],
                    "Management": [],
                },
                "DeclarationsToken": EMPTY_DECLARATIONS_TOKEN,
            }
        )
    if endpoint == "status":
        return Answer()
    if endpoint.startswith("declaration/"):
        # No declaration exists, so none can be fetched.
        return Answer(status=404)
    return Answer(status=400)


def _tokens() -> dict[str, Any]:
    return {"DeclarationsToken": EMPTY_DECLARATIONS_TOKEN, "Timestamp": EMPTY_TIMESTAMP}
