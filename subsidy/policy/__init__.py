"""Pure subsidy rules: policy versions as data, eligibility and amount functions, identifier validators.

Nothing here performs I/O, reads settings or looks at a clock, so the same functions decide inside a
Temporal workflow, explain a decision in the API, and run in tests without a server.
"""
