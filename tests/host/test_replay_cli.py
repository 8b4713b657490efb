"""`twcm replay` from the command line."""
import re

import pytest

from twcm.cli import main


def test_replay_clear_day_prints_the_figures_and_a_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    out_png = tmp_path / "day.png"
    assert main(["replay", "--day", "clear", "--start", "11", "--hours", "1",
                 "--decide-s", "10", "--plot", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert "clear day, green mode, 32 A max" in out
    capture = float(re.search(r"capture\s+([\d.]+) %", out).group(1))
    assert 80 < capture <= 100
    assert out_png.stat().st_size > 10_000


def test_replay_trace_file(capsys, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,generation_w,consumption_w,event\n0,,,plug\n"
                    "0,5000,400,\n300,5000,400,\n")
    assert main(["replay", "--trace", str(path), "--decide-s", "10"]) == 0
    assert "into cars" in capsys.readouterr().out


def test_bad_trace_exits_2_naming_the_line_and_the_fix(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,generation_w,consumption_w\n0,1,2\n60,one,2\n")
    assert main(["replay", "--trace", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3, column generation_w" in err and "plain number" in err


def test_bad_window_and_missing_file_exit_2(capsys, tmp_path):
    assert main(["replay", "--day", "clear", "--start", "30"]) == 2
    assert "fewer than two steps" in capsys.readouterr().err
    assert main(["replay", "--trace", str(tmp_path / "none.csv")]) == 2
    assert "cannot read the trace" in capsys.readouterr().err
