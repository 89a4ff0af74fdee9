"""RO Assistant: retrieval-augmented chat over a repair shop's own repair orders."""
