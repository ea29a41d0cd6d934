"""Public-welfare posts and placements (program P) and the flexible-employment insurance subsidy; the declarations are
`program.py`."""
