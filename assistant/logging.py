"""structlog, configured once: JSON lines, with PII patterns scrubbed from every event.

The scrubber here knows no vault values, only the detectors (emails, phones, VINs, cards,
plates near plate/tag/lic); it is the last line of defence, not the first: code never logs
record text in the first place.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

from retrieval.scrub import Scrubber

_scrubber = Scrubber()


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return _scrubber.scrub(value).text
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    return value


def scrub_pii(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = _scrub_value(value)
    return event


def configure(level: str = "INFO", log_file: Path | None = None) -> None:
    stream: TextIO = log_file.open("a", encoding="utf-8") if log_file else sys.stderr
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_pii,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
