"""Customer PII: the key ring, the encrypted vault, blind indexes and the audited reveal."""
