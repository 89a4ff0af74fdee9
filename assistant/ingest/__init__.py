"""Repair-order ingestion: readers for JSON, JSON Lines, CSV and PDF, validation, storage."""
