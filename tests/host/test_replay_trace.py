"""Loading replay traces: good files, and errors that name the line, the column and the fix."""
from datetime import datetime, timedelta, timezone

import pytest

from twcm.replay.trace import Event, TraceError, load_trace, parse_trace

HEAD = "time,generation_w,consumption_w"


def parse(text: str):
    return parse_trace(text.strip().splitlines())


def test_iso_times_with_events_and_offsets(tmp_path):
    path = tmp_path / "day.csv"
    path.write_text(f"{HEAD},event\n# a comment\n"
                    "2026-06-21T06:00:00+02:00,,,plug\n"
                    "2026-06-21T06:00:00+02:00,0,350,\n"
                    "2026-06-21T06:01:00+02:00,100,300,\n"
                    "2026-06-21T06:02:00+02:00,200,300,unplug:1\n")
    t = load_trace(path)
    assert t.start == datetime(2026, 6, 21, 6, tzinfo=timezone(timedelta(hours=2)))
    assert t.t_s == (0.0, 60.0, 120.0)
    assert t.generation_w == (0.0, 100.0, 200.0)
    assert t.events == (Event(0.0, "plug", 0), Event(120.0, "unplug", 1))


def test_seconds_and_resampling_interpolate():
    t = parse(f"{HEAD}\n100,0,400\n160,600,100\n")
    assert t.t_s == (0.0, 60.0)
    r = t.resample(15)
    assert r.t_s == (0.0, 15.0, 30.0, 45.0, 60.0)
    assert r.generation_w == (0.0, 150.0, 300.0, 450.0, 600.0)
    assert r.consumption_w == (400.0, 325.0, 250.0, 175.0, 100.0)
    window = t.resample(10, 20, 40)
    assert window.t_s == (0.0, 10.0, 20.0) and window.generation_w[0] == 200.0
    with pytest.raises(ValueError, match="fewer than two steps"):
        t.resample(100)


@pytest.mark.parametrize("text, line, column, fix", [
    ("", 1, "time", "start with"),
    ("time,gen,cons\n1,2,3", 1, "header", "use time,generation_w"),
    (f"{HEAD}\n1,2,x\n2,3,4", 2, "consumption_w", "plain number"),
    (f"{HEAD}\n1,nan,3\n2,3,4", 2, "generation_w", "plain number"),
    (f"{HEAD}\n1,2,3\n2,3", 3, "-", "one value per header column"),
    (f"{HEAD}\n5,2,3\n3,3,4", 3, "time", "sort the rows"),
    (f"{HEAD}\n5,2,3\n5,3,4", 3, "time", "its own time"),
    (f"{HEAD}\nnoon,2,3\n5,3,4", 2, "time", "2026-06-21T12:00:00"),
    (f"{HEAD}\n5,2,3\n2026-06-21T12:00,3,4", 3, "time", "one style"),
    (f"{HEAD}\n2026-06-21T12:00,2,3\n2026-06-21T12:01+01:00,3,4", 3, "time", "offset"),
    (f"{HEAD},event\n1,2,3,plg\n2,3,4,", 2, "event", "plug or unplug"),
    (f"{HEAD},event\n1,2,3,plug:3\n2,3,4,", 2, "event", "TWC N (0-2)"),
    (f"{HEAD}\n1,2,3", 2, "time", "at least two rows"),
])
def test_errors_name_the_line_column_and_fix(text, line, column, fix):
    with pytest.raises(TraceError) as e:
        parse(text)
    assert (e.value.line, e.value.column) == (line, column)
    assert f"line {line}, column {column}:" in str(e.value)
    assert fix in str(e.value)


def test_a_binary_file_is_refused_and_a_bom_is_fine(tmp_path):
    binary = tmp_path / "day.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00\x00")
    with pytest.raises(TraceError, match="UTF-8 CSV"):
        load_trace(binary)
    bom = tmp_path / "bom.csv"
    bom.write_text(f"\ufeff{HEAD}\n0,1,2\n60,1,2\n", encoding="utf-8")
    assert load_trace(bom).t_s == (0.0, 60.0)
