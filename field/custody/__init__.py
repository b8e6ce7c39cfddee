"""The custody log: hash-chained, one chain per jurisdiction, its heads signed in checkpoints."""
