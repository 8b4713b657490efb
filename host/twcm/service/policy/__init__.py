"""The host's policy engine: readings and the time in, a site limit out.

See docs/policy.md for the rules and every setting.
"""
from twcm.service.policy.claims import PRIORITY, Claim, Outcome, combine
from twcm.service.policy.engine import Decision, NonScheduled, Policy, Settings
from twcm.service.policy.green import GreenSettings, GreenTracker, surplus_w
from twcm.service.policy.inputs import Inputs, site_inputs
from twcm.service.policy.offsets import ConsumptionOffset
from twcm.service.policy.schedule import ChargeNow, Window, schedule_claim

__all__ = [
    "PRIORITY", "ChargeNow", "Claim", "ConsumptionOffset", "Decision", "GreenSettings", "GreenTracker",
    "Inputs", "NonScheduled", "Outcome", "Policy", "Settings", "Window",
    "combine", "schedule_claim", "site_inputs", "surplus_w",
]
