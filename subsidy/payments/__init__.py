"""Money that leaves, the same for every program: due payments, batches, the bank's files, failures, reconciliation
and recoveries (the tables are in subsidy/db/payment_models.py)."""
