"""Estimate drafts built only from a shop's own completed work on similar vehicles."""
