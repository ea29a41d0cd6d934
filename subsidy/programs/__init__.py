"""Every program of the service, one folder each, listed in `registry.py`.

Package `__init__` modules here stay empty: Temporal's sandbox imports a workflow module's packages afresh for every
workflow it runs, so they must not import the declarations (`program.py`) with their API and database code.
"""
