"""`twcm import-twcmanager`: TWCManager's config.json and settings.json as a twcm.toml
(docs/import-twcmanager.md).

reading.py reads the files as TWCManager does; policy_map.py, sources.py and services.py
map their parts; report.py collects what is not carried over; toml_writer.py writes the
file; convert.py puts it together.
"""
from twcm.twcmanager_import.convert import Imported, convert
from twcm.twcmanager_import.reading import InputError

__all__ = ["Imported", "InputError", "convert"]
