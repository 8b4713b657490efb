"""`type = "csv"`: TWCManager's three CSV files, with its columns (docs/logging.md).

    greenenergy.csv     time, timestamp, genWatts, conWatts, chgWatts        (each sample)
    slavestatus.csv     TWCID, time, timestamp, kWh, voltsPhaseA, B, C        (each status)
    chargesessions.csv  TWCID, startTime, startFormat, startkWh, endTime, endFormat,
                        endkWh, vehicleVIN                        (a session, when it ends)

`time` columns are Unix seconds, `timestamp`/`...Format` the machine's local time. Each
batch is appended and fsync'd before write() returns, and a batch that fails is cut off
again, so a row is in the file once or not at all. A crash in the middle of an append can
leave a torn last line: it was never acknowledged, and opening the file cuts it off, so
the file always parses as CSV. Decisions have no file (the original has none).
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from twcm.service.history.backends import register
from twcm.service.history.lines import local
from twcm.service.history.records import ChargeSession, EnergySample, Record, TwcStatus

FileName = Literal["greenenergy", "slavestatus", "chargesessions"]
HEADERS: dict[str, tuple[str, ...]] = {
    "greenenergy": ("time", "timestamp", "genWatts", "conWatts", "chgWatts"),
    "slavestatus": ("TWCID", "time", "timestamp", "kWh", "voltsPhaseA", "voltsPhaseB",
                    "voltsPhaseC"),
    "chargesessions": ("TWCID", "startTime", "startFormat", "startkWh", "endTime",
                       "endFormat", "endkWh", "vehicleVIN"),
}
CHUNK = 65536


class CsvOptions(BaseModel):
    """A `[[logging]]` table of type "csv"."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    directory: str
    files: list[FileName] = Field(default_factory=lambda: list(HEADERS), min_length=1)
    site: str | None = None  # only this site's records (needed with several sites)


def _num(value: float | None) -> str:
    """A number as the files give it: whole units, empty when unknown."""
    return "" if value is None else str(round(value))


def _kwh(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def row(record: Record) -> tuple[str, list[str]] | None:
    """The file and the row a record makes; None for a record no file keeps."""
    r = record
    if isinstance(r, EnergySample):
        return "greenenergy", [str(int(r.at)), local(r.at), _num(r.generation_w),
                               _num(r.consumption_w), _num(r.charging_w)]
    if isinstance(r, TwcStatus):
        return "slavestatus", [r.twc, str(int(r.at)), local(r.at), _kwh(r.lifetime_kwh),
                               *(_num(v) for v in r.volts)]
    if isinstance(r, ChargeSession) and r.end is not None:
        return "chargesessions", [r.twc, str(int(r.start)), local(r.start),
                                  _kwh(r.start_kwh), str(int(r.end)), local(r.end),
                                  _kwh(r.end_kwh), r.vin or ""]
    return None


def _complete_size(f: io.FileIO, size: int) -> int:
    """The length of the file up to and with its last newline (0 if it has none)."""
    end = size
    while end > 0:
        start = max(0, end - CHUNK)
        f.seek(start)
        chunk = f.read(end - start)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0


def _write_all(f: io.FileIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[f.write(view) or 0:]


def _text(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def open_csv(path: Path, header: Sequence[str]) -> io.FileIO:
    """The file, opened to append: a torn last line cut off, the header written if the
    file is new or empty; ValueError if it holds another header (not twcm's file)."""
    f = io.FileIO(path, "a+")
    try:
        size = os.fstat(f.fileno()).st_size
        whole = _complete_size(f, size)
        if whole != size:
            os.ftruncate(f.fileno(), whole)
            os.fsync(f.fileno())
        f.seek(0)
        first = f.read(CHUNK).split(b"\n", 1)[0]
        if whole == 0:
            _write_all(f, _text([list(header)]))
            os.fsync(f.fileno())
            directory = os.open(path.parent, os.O_RDONLY)
            try:  # the new file's name survives a crash too
                os.fsync(directory)
            finally:
                os.close(directory)
        elif next(csv.reader([first.decode("utf-8", "replace")]), []) != list(header):
            raise ValueError(f"{path}: its first line is not the header "
                             f"{','.join(header)} (fix: move the file away, or give the "
                             "backend another directory)")
    except BaseException:
        f.close()
        raise
    return f


class CsvLog:
    """The CSV files in one directory, opened (and repaired) when made."""

    def __init__(self, options: CsvOptions) -> None:
        self.directory = Path(options.directory).expanduser()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.site = options.site
        self.files: dict[str, io.FileIO] = {}
        try:
            for name in options.files:
                self.files[name] = open_csv(self.directory / f"{name}.csv", HEADERS[name])
        except BaseException:
            self.close()
            raise

    def write(self, batch: Sequence[Record]) -> None:
        rows: dict[str, list[list[str]]] = {}
        for record in batch:
            made = row(record) if self.site in (None, record.site) else None
            if made is not None and made[0] in self.files:
                rows.setdefault(made[0], []).append(made[1])
        sizes: dict[str, int] = {}
        try:
            for name, lines in rows.items():
                f = self.files[name]
                sizes[name] = os.fstat(f.fileno()).st_size
                _write_all(f, _text(lines))
                os.fsync(f.fileno())
        except BaseException:
            for name, size in sizes.items():  # none of the batch stays: the writer retries it
                try:
                    os.ftruncate(self.files[name].fileno(), size)
                except OSError:
                    pass
            raise

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files = {}


@register("csv", CsvOptions)
def make(options: CsvOptions) -> CsvLog:
    return CsvLog(options)
