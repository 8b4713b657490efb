"""The database's tables (SQLAlchemy Core; SQLite and MySQL/MariaDB alike), described in
docs/logging.md#the-database.

Four tables keep the records (records.py): samples (EnergySample), decisions
(DecisionRecord), slave_status (TwcStatus), sessions (ChargeSession). Three keep what a
restart must find: charge_now, settings, twc_caps. schema_version holds the version of
the tables (migrate.py). Times are Unix seconds as doubles (MySQL's FLOAT would round
them to minutes).
"""
from __future__ import annotations

from sqlalchemy import (Column, Double, Index, Integer, MetaData, String, Table, Text)

VERSION = 5
"""The tables' version. 1-4 were the SQLite-only store's (PRAGMA user_version)."""

metadata = MetaData()
UTF8 = {"mysql_charset": "utf8mb4"}  # reasons have × and ÷; MariaDB's default may be latin1


def _at() -> Column:
    return Column("at", Double, nullable=False)


def _site() -> Column:
    return Column("site", String(64), nullable=False)


samples = Table(
    "samples", metadata, _at(), _site(),
    Column("generation_w", Double), Column("consumption_w", Double),
    Column("charging_w", Double), Column("grid_import_w", Double),
    Column("battery_w", Double), Column("battery_soc", Double),
    Index("samples_site_at", "site", "at"), **UTF8)

decisions = Table(
    "decisions", metadata, _at(), _site(),
    Column("amps", Integer), Column("claim", String(32)), Column("capped_by", String(32)),
    Column("reason", Text),
    Index("decisions_site_at", "site", "at"), **UTF8)

slave_status = Table(
    "slave_status", metadata, _at(), _site(),
    Column("twc", String(16), nullable=False), Column("link", String(32)),
    Column("state", String(32)), Column("offered_amps", Double),
    Column("actual_amps", Double), Column("lifetime_kwh", Double),
    Column("volts_a", Double), Column("volts_b", Double), Column("volts_c", Double),
    Column("vin", String(32)),
    Index("slave_status_site_at", "site", "at"), **UTF8)

sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True), _site(),
    Column("twc", String(16), nullable=False), Column("vin", String(32)),
    Column("start", Double, nullable=False), Column("end", Double),
    Column("updated", Double, nullable=False),
    Column("start_lifetime_kwh", Integer), Column("end_lifetime_kwh", Integer),
    Column("integrated_kwh", Double, nullable=False, server_default="0"),
    Column("kwh", Double, nullable=False, server_default="0"),
    Index("sessions_vin", "vin"), Index("sessions_key", "site", "twc", "start"), **UTF8)

charge_now = Table(
    "charge_now", metadata, Column("site", String(64), primary_key=True),
    Column("amps", Integer, nullable=False), Column("until", Double, nullable=False), **UTF8)

settings = Table(
    "settings", metadata, Column("site", String(64), primary_key=True),
    Column("runtime", Text, nullable=False), **UTF8)

twc_caps = Table(
    "twc_caps", metadata, Column("site", String(64), primary_key=True),
    Column("twc", String(16), primary_key=True), Column("amps", Integer, nullable=False),
    **UTF8)

schema_version = Table(
    "schema_version", metadata, Column("version", Integer, nullable=False))
