"""Conversations, grounded answers and PII placeholders rendered per caller."""
