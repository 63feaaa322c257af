"""A pydantic ``ValidationError`` as one line, the same way for configuration files, spider
arguments and LLM answers."""

from __future__ import annotations

from pydantic import ValidationError

SHOWN_ERRORS = 5  # an LLM answer can be wrong everywhere: its first errors say enough
MAX_CHARS = 1000  # locations can hold an answer's own keys, of any length


def describe(error: ValidationError, whole: str, prefix: str = "") -> str:
    """``<prefix><location>: <message>`` per error (the first few), joined by "; "; ``whole`` names
    the location of an error about the whole value."""
    errors = error.errors()
    parts = [f"{prefix}{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in errors[:SHOWN_ERRORS]]
    if len(errors) > SHOWN_ERRORS:
        parts.append(f"{len(errors) - SHOWN_ERRORS} more")
    return "; ".join(parts)[:MAX_CHARS]
