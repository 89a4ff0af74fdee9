"""The HTTP edge: thin Litestar handlers over the domain services."""
