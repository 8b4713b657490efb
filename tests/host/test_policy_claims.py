"""Claims: priority order, safety ceilings, and the reason they give."""
import pytest

from twcm.service.policy import PRIORITY, Claim, combine


def test_priority_order():
    assert PRIORITY == ("safety", "ocpp", "manual", "schedule", "plan", "green", "default")


@pytest.mark.parametrize("winner", ["ocpp", "manual", "schedule", "plan", "green", "default"])
def test_highest_priority_wish_wins_whatever_its_amps(winner):
    order = ["default", "green", "plan", "schedule", "manual", "ocpp"]
    # Every wish below the winner asks for more, so "most amps" would pick wrong.
    claims = [Claim(src, 10 + 5 * i, f"{src} wish") for i, src in enumerate(order)]
    claims = [c for c in claims if order.index(c.source) <= order.index(winner)]
    claims.reverse()  # list order must not matter
    out = combine(claims, min_amps=6)
    assert out.set_by.source == winner
    assert out.amps == 10 + 5 * order.index(winner)
    assert out.capped_by is None
    assert out.explain(6) == f"{winner}: {winner} wish"


def test_safety_only_lowers():
    low = Claim("safety", 12, "main fuse leaves 12 A")
    high = Claim("safety", 40, "site maximum 40 A")
    out = combine([Claim("manual", 32, "charge now"), high, low], min_amps=6)
    assert (out.amps, out.set_by.source, out.capped_by) == (12, "manual", low)
    assert out.explain(6) == "manual: charge now; capped by main fuse leaves 12 A"
    # A ceiling above the wish changes nothing and caps nothing.
    out = combine([Claim("green", 8, "sun"), high], min_amps=6)
    assert (out.amps, out.capped_by) == (8, None)


def test_safety_alone_is_no_wish():
    out = combine([Claim("safety", 20, "site maximum")], min_amps=6)
    assert (out.amps, out.set_by, out.capped_by) == (0, None, None)
    assert out.explain(6) == "no claim: 0 A"


def test_cap_below_minimum_gives_zero_and_says_so():
    cap = Claim("safety", 4, "main fuse leaves 4 A")
    out = combine([Claim("schedule", 16, "night window"), cap], min_amps=6)
    assert out.amps == 0 and out.capped_by is cap
    assert "below the 6 A minimum: 0 A" in out.explain(6)


def test_wish_below_minimum_is_zero():
    assert combine([Claim("manual", 3, "x")], min_amps=6).amps == 0


@pytest.mark.parametrize("source, amps, field", [
    ("boss", 1, "source"), ("green", -1, "amps"), ("green", 6.5, "amps"), ("green", True, "amps"),
])
def test_claim_validation_names_the_field(source, amps, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        Claim(source, amps, "r")
