"""A PostgreSQL server for the store tests (the PostgreSQL helper writes it)."""
