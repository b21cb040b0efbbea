"""A Redis server for the rate budget tests (the rate budget helper writes it)."""
