"""Reading one repair order, with its customer PII shown or withheld by the caller's role."""
