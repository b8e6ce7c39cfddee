"""Below every feature package: database, errors, scope, paging, geometry, calendars, the office clock, the
text policy, sync."""
