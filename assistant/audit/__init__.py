"""The audit log: one function writes it, and the chain can be verified and exported."""
