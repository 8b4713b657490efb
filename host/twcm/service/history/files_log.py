"""`type = "files"`: the records as readable lines in a rotating log file
(docs/logging.md), as TWCManager's FileLogger keeps them: one line per record, a kind of
record muted by its switch. The file rotates at `max_bytes`, keeping `backups` old files
(logging.handlers.RotatingFileHandler: name.log.1 is the newest old one)."""
from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from twcm.service.history.backends import register
from twcm.service.history.lines import Mute, line
from twcm.service.history.records import Record


class FilesOptions(BaseModel):
    """A `[[logging]]` table of type "files"."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    path: str
    max_bytes: int = Field(10_000_000, ge=10_000)
    backups: int = Field(5, ge=0, le=1000)
    mute: Mute = Mute()


class _Handler(logging.handlers.RotatingFileHandler):
    """A failed write raises (the writer holds the batch) instead of printing to stderr."""

    def handleError(self, record: logging.LogRecord) -> None:
        raise  # called by emit() inside its except clause: re-raises what failed


class FilesLog:
    def __init__(self, options: FilesOptions) -> None:
        path = Path(options.path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.mute = options.mute
        self.handler = _Handler(path, maxBytes=options.max_bytes,
                                backupCount=options.backups, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(message)s"))

    def write(self, batch: Sequence[Record]) -> None:
        for record in batch:
            if not self.mute.muted(record):
                self.handler.emit(logging.makeLogRecord({"msg": line(record)}))

    def close(self) -> None:
        self.handler.close()


@register("files", FilesOptions)
def make(options: FilesOptions) -> FilesLog:
    return FilesLog(options)
