"""Runs: the compiled plan (plan.py), the runner that walks it, events and listeners."""
