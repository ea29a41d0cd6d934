"""Benchmarks of the subsidy service against bare Temporal on the same embedded stack (issue 7, part 1).

Run `python -m bench` (see `python -m bench --help` and README.md, "Performance"). Not part of the test suite.
"""
