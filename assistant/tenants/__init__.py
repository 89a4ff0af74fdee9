"""Shops (tenants) and their users."""
