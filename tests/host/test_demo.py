"""`twcm demo` runs the whole simulated bus and shows the sharing."""
import re

from twcm.cli import main


def test_demo_shows_three_cars_sharing_and_following_the_site_limit(capsys):
    assert main(["demo", "--speed", "100000", "--duration", "181", "--every", "30"]) == 0
    out = capsys.readouterr().out
    assert out.count("event: joined") == 3
    assert out.count("event: vin") == 3
    totals = {int(t): (int(lim), int(off)) for t, lim, off in
              re.findall(r"(\d+)\.0 s  limit (\d+) A, offered (\d+) A in all", out)}
    assert totals[60] == (40, 40)  # three cars share 40 A
    assert totals[120] == (20, 20)  # the site limit went down to 20 A at 90 s
    assert totals[180] == (40, 40)
    offers = re.findall(r"offer\s+(\d+) A", out)
    assert max(int(o) for o in offers) <= 32


def test_demo_refuses_bad_wiring(capsys):
    assert main(["demo", "--wiring-max-amps-per-twc", "100"]) == 2
    assert "between 5 and 80 A" in capsys.readouterr().err
