"""Chat domain pieces that need no database."""
