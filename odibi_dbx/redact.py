"""Keep secrets out of everything we print, log or store.

Every secret value that enters a run (an account key from Key Vault or from ${VAR}) is
registered here; `redact` replaces any occurrence with ***. Stories, CLI output, log records and
error messages pass through it. A secret is also masked in the forms it takes inside URLs and
headers: URL-encoded (either hex case, `+` for spaces or not), base64-encoded, and, for a
base64 value such as an account key, its decoded text.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

_SECRETS: set[str] = set()
_PATTERN: re.Pattern[str] | None = None  # every form of every secret, longest first
_LOCK = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    global _PATTERN
    if value and len(value) >= 6:  # shorter strings would mask ordinary text
        forms = {f for f in _forms(value) if len(f) >= 6}
        with _LOCK:
            _SECRETS.update(forms)
            _PATTERN = re.compile(
                "|".join(_escaped(f) for f in sorted(_SECRETS, key=len, reverse=True))
            )


def _forms(value: str) -> set[str]:
    """The secret as it may appear in text: itself, URL-encoded, base64 in and out."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    forms.add(base64.b64encode(value.encode()).decode())
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded.isprintable():
        forms.add(decoded)
    return forms


def _escaped(form: str) -> str:
    """A regex for `form` whose %XX escapes match in either hex case."""
    parts = re.split(r"(%[0-9A-F]{2})", form)
    return "".join(
        f"%[{p[1].upper()}{p[1].lower()}][{p[2].upper()}{p[2].lower()}]"
        if re.fullmatch(r"%[0-9A-F]{2}", p)
        else re.escape(p)
        for p in parts
    )


def redact(text: str) -> str:
    pattern = _PATTERN
    if not text or pattern is None:
        return text
    return pattern.sub(MASK, text)


def redact_obj(obj: Any) -> Any:
    """Redact strings inside JSON-like data."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj


def install_log_redaction() -> None:
    """Mask secrets in every log record of the process (ours, the Azure SDK's, any library's):
    a record factory sees records of all loggers, where a logger filter would miss children."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_odibi_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        if _SECRETS:
            try:
                text = record.getMessage()
            except Exception:  # a malformed record: leave it to logging's own error path
                return record
            record.msg, record.args = redact(text), ()
        return record

    factory._odibi_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
