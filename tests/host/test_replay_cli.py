"""`twcm replay` from the command line."""
import io
import re

import pytest

from twcm.cli import main
from twcm.commands.replay import Progress
from twcm.replay import day, figure, replay, replay_settings


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


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_on_a_terminal_is_one_line_redrawn_and_wiped():
    now = [0.0]
    out = Stream(tty=True)
    p = Progress(out, clock=lambda: now[0])
    p(3600, 7 * 86400)
    assert out.getvalue() == ""  # not in the first half second
    now[0] = 1.0
    p(86400, 7 * 86400)
    p(86400 + 5, 7 * 86400)  # too soon after the last: not redrawn
    now[0] = 2.0
    p(2 * 86400, 7 * 86400)
    p.close()
    assert out.getvalue() == (
        "\rtwcm replay: 24.0 of 168.0 h replayed (14 %), about 6 s left\x1b[K"
        "\rtwcm replay: 48.0 of 168.0 h replayed (29 %), about 5 s left\x1b[K\r\x1b[K")


def test_progress_piped_is_a_line_now_and_then():
    now = [0.0]
    out = Stream(tty=False)
    p = Progress(out, every_s=30, clock=lambda: now[0])
    for t in range(1, 100):
        now[0] = t
        p(t * 600, 100 * 600)
    p.close()
    assert out.getvalue().splitlines() == [
        "twcm replay: 5.0 of 16.7 h replayed (30 %), about 70 s left",
        "twcm replay: 10.0 of 16.7 h replayed (60 %), about 40 s left",
        "twcm replay: 15.0 of 16.7 h replayed (90 %), about 10 s left"]


def test_a_short_piped_replay_writes_nothing_on_stderr(capsys):
    assert main(["replay", "--day", "clear", "--start", "11", "--hours", "0.5"]) == 0
    assert capsys.readouterr().err == ""


def test_the_plot_shows_the_time_of_day():
    pytest.importorskip("matplotlib")
    steps = day("clear").resample(60, 10 * 3600, 14 * 3600)
    fig = figure(replay(steps, replay_settings("green", 32), 60, 50), "noon")
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "12:00" in ticks and all(re.fullmatch(r"\d\d:\d\d", t) for t in ticks), ticks
