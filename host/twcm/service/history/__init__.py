"""What twcm records and where: the records (records.py), the backends that keep them
(backends.py: the database, CSV, log files, the console) and the writer that batches them
off the event loop."""
