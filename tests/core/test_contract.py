# The site-name rule and the topic names of twc/contract.py, which the
# device, `twcm master` and `twcm run` all take from there.
from twc import contract


def test_the_site_name_rule():
    for good in ("home", "a", "Barn-2_east", "x" * 32, "0123"):
        assert contract.site_ok(good), good
    for bad in ("", "x" * 33, "my home", "a/b", "a+b", "#", "h\u00e9im", None, 5, b"home"):
        assert not contract.site_ok(bad), bad


def test_topics_after_the_prefix():
    assert contract.prefix("home") == "twcm/home/"
    assert contract.twc_topic("1A2B") == "twc/1A2B/limit/set"
    assert (contract.SITE_TOPIC, contract.SCHEDULE_TOPIC) == ("limit/set", "schedule/set")
    assert (contract.STATE_TOPIC, contract.EVENT_TOPIC, contract.ONLINE_TOPIC) == (
        "state", "event", "online")
