"""`type = "console"`: the records as lines of the service's own log, under the logger
`twcm.history` at INFO (so `--log-level warning` hides them), a kind muted by its switch
(docs/logging.md)."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from twcm.service.history.backends import register
from twcm.service.history.lines import Mute, line
from twcm.service.history.records import Record

log = logging.getLogger("twcm.history")


class ConsoleOptions(BaseModel):
    """A `[[logging]]` table of type "console"."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    mute: Mute = Mute()


class ConsoleLog:
    def __init__(self, options: ConsoleOptions) -> None:
        self.mute = options.mute

    def write(self, batch: Sequence[Record]) -> None:
        for record in batch:
            if not self.mute.muted(record):
                log.info("%s", line(record))

    def close(self) -> None:
        """Nothing to let go: the service's logging owns the console."""


@register("console", ConsoleOptions)
def make(options: ConsoleOptions) -> ConsoleLog:
    return ConsoleLog(options)
