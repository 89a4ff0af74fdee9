"""Everything that talks to PostgreSQL: servers, roles, migrations and units of work."""
