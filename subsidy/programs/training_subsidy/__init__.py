"""Vocational skills training subsidy (program T); its declaration is `program.py`."""
