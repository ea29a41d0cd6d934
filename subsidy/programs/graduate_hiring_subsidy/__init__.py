"""Graduate hiring subsidy (安置残疾人应届高校毕业生补贴): an employer that hires a fresh graduate with a disability."""
