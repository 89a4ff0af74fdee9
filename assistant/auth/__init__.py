"""Logging in, bearer tokens, and who a request acts as."""
