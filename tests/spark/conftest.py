"""Spark fixtures come from tests/conftest.py (one session for the whole run)."""
