"""The directory: units, persons, enterprises, monitoring points, squads, bulk import."""
