"""Chunking, PII scrubbing, embedding and tenant-scoped hybrid search over repair orders."""
