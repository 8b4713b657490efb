"""The CSV, log-file and console backends, fed the same records (history_records.py) and
read back: the CSV files with the csv module, column by column."""
from __future__ import annotations

import csv
import logging
from datetime import datetime
from pathlib import Path

import pytest

from history_records import (DAY, DECISION, ENDED, NO_LEASE, OTHER, SAMPLE, SAMPLE_2,
                             STATUS, T, VIN)
from twcm.service.history import csv_log
from twcm.service.history.console_log import ConsoleLog, ConsoleOptions
from twcm.service.history.csv_log import CsvLog, CsvOptions
from twcm.service.history.files_log import FilesLog, FilesOptions
from twcm.service.history.lines import Mute, line


def local(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, strict=True))


def test_csv_keeps_the_originals_files_and_columns(tmp_path):
    log = CsvLog(CsvOptions(directory=str(tmp_path), site="home"))
    log.write(DAY[:4])
    log.write(DAY[4:])
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chargesessions.csv", "greenenergy.csv", "slavestatus.csv"]
    assert rows(tmp_path / "greenenergy.csv") == [
        {"time": str(int(T)), "timestamp": local(T), "genWatts": "5200", "conWatts": "900",
         "chgWatts": "3200"},
        {"time": str(int(T) + 5), "timestamp": local(T + 5), "genWatts": "5100",
         "conWatts": "", "chgWatts": "3181"}]  # the barn's sample is not this site's
    assert rows(tmp_path / "slavestatus.csv") == [
        {"TWCID": "7A01", "time": str(int(T) + 5), "timestamp": local(T + 5), "kWh": "1234",
         "voltsPhaseA": "230", "voltsPhaseB": "", "voltsPhaseC": ""}]
    assert rows(tmp_path / "chargesessions.csv") == [  # one line, when it ended
        {"TWCID": "7A01", "startTime": str(int(T) - 3600), "startFormat": local(T - 3600),
         "startkWh": "1220", "endTime": str(int(T) + 7200), "endFormat": local(T + 7200),
         "endkWh": "1241", "vehicleVIN": VIN}]


def test_csv_writes_the_header_once_and_only_the_files_asked_for(tmp_path):
    options = CsvOptions(directory=str(tmp_path / "new"), files=["greenenergy"])
    for _ in range(2):
        log = CsvLog(options)
        log.write([SAMPLE, STATUS, ENDED, OTHER])  # without `site`: every site's records
        log.close()
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["greenenergy.csv"]
    text = (tmp_path / "new" / "greenenergy.csv").read_text()
    assert text.count("time,timestamp") == 1
    assert [r["genWatts"] for r in rows(tmp_path / "new" / "greenenergy.csv")] == [
        "5200", "100", "5200", "100"]


def test_a_torn_last_line_is_cut_off_on_open(tmp_path):
    log = CsvLog(CsvOptions(directory=str(tmp_path), files=["greenenergy"]))
    log.write([SAMPLE])
    log.close()
    path = tmp_path / "greenenergy.csv"
    with open(path, "ab") as f:
        f.write(b'1782036005,"2026-06-21 1')  # a crash in the middle of an append
    log = CsvLog(CsvOptions(directory=str(tmp_path), files=["greenenergy"]))
    log.write([SAMPLE_2])
    log.close()
    assert [r["time"] for r in rows(path)] == [str(int(T)), str(int(T) + 5)]


def test_a_torn_header_is_written_again(tmp_path):
    (tmp_path / "greenenergy.csv").write_text("time,timest")
    CsvLog(CsvOptions(directory=str(tmp_path), files=["greenenergy"])).close()
    assert (tmp_path / "greenenergy.csv").read_text() == (
        "time,timestamp,genWatts,conWatts,chgWatts\n")


def test_another_programs_csv_file_is_left_alone(tmp_path):
    (tmp_path / "greenenergy.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="greenenergy.csv: its first line is not the header"):
        CsvLog(CsvOptions(directory=str(tmp_path)))
    assert (tmp_path / "greenenergy.csv").read_text() == "a,b\n1,2\n"


def test_a_failed_batch_leaves_no_row_behind(tmp_path, monkeypatch):
    log = CsvLog(CsvOptions(directory=str(tmp_path)))
    log.write([SAMPLE])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    calls = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(csv_log.os, "fsync", fsync)
    with pytest.raises(OSError, match="No space"):
        log.write([SAMPLE_2, STATUS, ENDED])  # greenenergy is kept, slavestatus fails
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    monkeypatch.undo()
    log.write([SAMPLE_2, STATUS, ENDED])  # the writer offers it again: each row once
    log.close()
    assert len(rows(tmp_path / "greenenergy.csv")) == 2
    assert len(rows(tmp_path / "slavestatus.csv")) == 1
    assert len(rows(tmp_path / "chargesessions.csv")) == 1


def test_the_log_file_has_a_line_per_record_but_the_muted(tmp_path):
    path = tmp_path / "log" / "history.log"
    log = FilesLog(FilesOptions(path=str(path), mute=Mute(energy=True)))
    log.write(DAY)
    log.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [line(r) for r in DAY if r not in (SAMPLE, SAMPLE_2, OTHER)]
    assert lines[0] == f"{local(T)} home decision: 14 A (by green): surplus 3300 W"
    start = local(T - 3600)
    assert lines[1] == f"{start} home TWC 7A01 session started: since {start}, 0.00 kWh, VIN {VIN}"
    assert lines[2] == (f"{start} home TWC 7A01 session charging: since {start}, 14.00 kWh, "
                        f"VIN {VIN}")
    assert lines[3] == (f"{local(T + 5)} home TWC 7A01: linked, charging, offered 14.0 A, "
                        f"drawing 13.9 A, 230/?/? V, lifetime 1234 kWh, VIN {VIN}")
    assert lines[4] == f"{local(T + 5)} home decision: no lease: no readings"
    assert lines[5] == (f"{local(T + 7200)} home TWC 7A01 session ended: {local(T - 3600)} "
                        f"to {local(T + 7200)}, 21.00 kWh, VIN {VIN}")


def test_the_log_file_rotates_and_keeps_its_backups(tmp_path):
    path = tmp_path / "history.log"
    log = FilesLog(FilesOptions(path=str(path), max_bytes=10_000, backups=2))
    for _ in range(200):
        log.write(DAY)
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["history.log", "history.log.1", "history.log.2"]
    assert all(p.stat().st_size <= 10_000 for p in tmp_path.iterdir())
    assert path.read_text().splitlines()[-1] == line(OTHER)


def test_a_log_file_that_cannot_be_written_raises(tmp_path):
    log = FilesLog(FilesOptions(path=str(tmp_path / "history.log")))
    log.handler.stream.close()  # as a lost disk would leave it
    with pytest.raises(ValueError):
        log.write([SAMPLE])


def test_the_console_logs_the_records_under_twcm_history(caplog):
    caplog.set_level(logging.INFO, logger="twcm.history")
    log = ConsoleLog(ConsoleOptions(mute=Mute(twc_status=True, session=True)))
    log.write(DAY)
    log.close()
    got = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert got == [("twcm.history", logging.INFO, line(r))
                   for r in (SAMPLE, DECISION, SAMPLE_2, NO_LEASE, OTHER)]
