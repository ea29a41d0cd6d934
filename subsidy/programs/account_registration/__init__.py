"""Account registration, verified by the County DPF; its declaration is `program.py`."""
