"""Real services the tests start on this machine: a local Ray cluster, a PostgreSQL
server, a Redis server. Each fixture skips (printing why) only when its service cannot
be started here."""
