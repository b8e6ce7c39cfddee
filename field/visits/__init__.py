"""Undercover work: finding categories, visit tasks, visits, findings, callbacks; the console's review sheet."""
