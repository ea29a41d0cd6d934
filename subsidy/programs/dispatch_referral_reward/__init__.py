"""Reward to a labour dispatch agency for referring a person with a disability into employment (推荐残疾人就业补贴)."""
