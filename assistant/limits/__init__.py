"""Counters every worker and replica shares: request rate limits and login throttles."""
