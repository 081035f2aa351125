"""The questions log: every question asked, kept in SQLite beside the index, and the reports read from it.

``store`` owns the database file (schema, writes, retention, a damaged file set aside); ``recording``
asks a question and logs it; ``migrate`` imports the old feedback.jsonl; ``gaps`` and ``stats`` read it.
"""
