"""HTTP handlers, one module per resource: parse, call the domain, shape the answer."""
