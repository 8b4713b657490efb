"""`twcm replay`: a day of meter readings through the site loop of `twcm run` and the
simulated device, with the figures that tell how green the charging was.

    trace = load_trace("day.csv")            # or days.day("clear")
    result = replay(trace, replay_settings("green", 32))
    best = oracle(trace.resample(5), 230, 6, 32)
    print("\\n".join(figures(result, best)))
"""
from twcm.replay.days import DAYS, day
from twcm.replay.engine import MODES, Result, Sample, replay, replay_settings, site_config
from twcm.replay.oracle import OracleResult, best_offer, oracle
from twcm.replay.report import capture, figure, figures, plot
from twcm.replay.trace import Event, Trace, TraceError, load_trace, parse_trace

__all__ = [
    "DAYS", "MODES", "Event", "OracleResult", "Result", "Sample", "Trace", "TraceError",
    "best_offer", "capture", "day", "figure", "figures", "load_trace", "oracle",
    "parse_trace", "plot", "replay", "replay_settings", "site_config",
]
