"""Checks on text people give Trellis that ends up in profiles and pages."""

import unicodedata

from django.core.exceptions import ValidationError

# Control, surrogate and private-use characters: property lists cannot carry
# the first two, and none of them belongs in a name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co"})


def is_printable(value: str) -> bool:
    """Answer whether text has no control, surrogate or private-use character."""
    return not any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in value)


def printable_text(value: str) -> None:
    """Refuse text with control, surrogate or private-use characters."""
    if not is_printable(value):
        raise ValidationError("Use printable characters only (no control characters).")
