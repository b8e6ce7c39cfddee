"""Below every feature package: database, errors, scope, paging, geometry, calendars, sync."""
