"""Activity names of the official calendar (see `names.py` for why by name)."""

COUNT_WORKING_DAYS = "count_working_days"
