"""Subsidy workflow service for disability employment programs."""
