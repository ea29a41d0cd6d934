"""Start-up premises rent subsidy (program R); its declaration is `program.py`."""
