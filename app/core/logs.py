"""Logging that never shows a secret: provisioning tokens are masked in every logged path."""

from __future__ import annotations

import logging
import re

# /provisioning/<token>/<file>: the token is the only credential a phone has.
_PROVISIONING_TOKEN = re.compile(r"(/provisioning/)[^/?\s]+")
MASK = "***"


def mask_path(path: str) -> str:
    """``path`` with any provisioning token replaced by ``***``."""
    return _PROVISIONING_TOKEN.sub(rf"\g<1>{MASK}", path)


class MaskSecretsFilter(logging.Filter):
    """Masks provisioning tokens in uvicorn's access log lines (and any record's string arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(mask_path(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str) and "/provisioning/" in record.msg:
            record.msg = mask_path(record.msg)
        return True


def install_log_masking() -> None:
    """Attach the masking filter to uvicorn's access and error loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskSecretsFilter) for f in logger.filters):
            logger.addFilter(MaskSecretsFilter())
