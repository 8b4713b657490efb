"""Weekly windows laid out as the device's 48-hour UTC schedule."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from twc import payloads
from twcm.service.policy import Window
from twcm.service.policy.device_schedule import MAX_WINDOWS, device_schedule

AMS = ZoneInfo("Europe/Amsterdam")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def unix(*args: int) -> int:
    return int(at(*args).timestamp())


def test_a_night_window_across_midnight_on_weekdays():
    nights = Window((0, 1, 2, 3, 4), time(23), time(6), 16)  # Mon-Fri 23:00-06:00
    now = at(2026, 11, 26, 12, 0)  # a Thursday
    got = device_schedule((nights,), now)
    # Thursday night, and Friday night until the 47 h horizon; no Saturday night.
    assert got == [{"start": unix(2026, 11, 26, 23), "end": unix(2026, 11, 27, 6), "amps": 16},
                   {"start": unix(2026, 11, 27, 23), "end": unix(2026, 11, 28, 6), "amps": 16}]
    payloads.windows(got, 32, int(now.timestamp()) - payloads.EPOCH)  # the device takes it


def test_a_window_that_has_begun_is_sent_whole_and_one_beyond_the_horizon_is_cut():
    day = Window(tuple(range(7)), time(10), time(14), 10)
    now = at(2026, 11, 26, 12, 0)
    got = device_schedule((day,), now)
    assert got[0] == {"start": unix(2026, 11, 26, 10), "end": unix(2026, 11, 26, 14),
                      "amps": 10}
    assert got[-1]["end"] == int(now.timestamp()) + 47 * 3600  # 11:00 two days on
    assert len(got) == 3


def test_overlaps_take_the_most_amps_and_equal_neighbours_join():
    low = Window((3,), time(20), time(23), 8)
    high = Window((3,), time(21), time(22), 20)
    touching = Window((3,), time(23), time(23, 30), 8)
    got = device_schedule((low, high, touching), at(2026, 11, 26, 12, 0))
    assert got == [{"start": unix(2026, 11, 26, 20), "end": unix(2026, 11, 26, 21), "amps": 8},
                   {"start": unix(2026, 11, 26, 21), "end": unix(2026, 11, 26, 22), "amps": 20},
                   {"start": unix(2026, 11, 26, 22), "end": unix(2026, 11, 26, 23, 30),
                    "amps": 8}]


def test_the_dst_change_moves_the_window_in_utc():
    w = Window(tuple(range(7)), time(1), time(5), 6)
    got = device_schedule((w,), at(2026, 10, 24, 12, 0))  # clocks go back on Oct 25 03:00
    assert got[0]["start"] == unix(2026, 10, 25, 1)
    assert got[0]["end"] - got[0]["start"] == 5 * 3600  # that night 01:00-05:00 lasts 5 h
    assert got[1]["end"] - got[1]["start"] == 4 * 3600


def test_no_windows_is_an_empty_schedule_and_many_are_capped():
    assert device_schedule((), at(2026, 11, 26, 12, 0)) == []
    many = tuple(Window(tuple(range(7)), time(h, m), time(h, m + 20), 6 + m // 30)
                 for h in range(24) for m in (0, 30))  # 94 in 47 h
    assert len(device_schedule(many, at(2026, 11, 26, 12, 0))) == MAX_WINDOWS
