"""Keep secrets out of everything we print, log or store.

Every secret value that enters a run (an account key from Key Vault or from ${VAR}) is
registered here; `redact` replaces any occurrence with ***. Stories, CLI output, log records and
error messages pass through it.
"""

from __future__ import annotations

import logging
import threading

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    if value and len(value) >= 6:  # shorter strings would mask ordinary text
        with _LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    if not text or not _SECRETS:
        return text
    for s in sorted(_SECRETS, key=len, reverse=True):
        if s in text:
            text = text.replace(s, MASK)
    return text


def redact_obj(obj):
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

    def factory(*args, **kwargs):
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
