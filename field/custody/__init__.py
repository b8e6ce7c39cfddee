"""The custody log: hash-chained, one chain per jurisdiction."""
