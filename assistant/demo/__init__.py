"""Deterministic demo repair orders: the service can be shown and tested without shop data."""
