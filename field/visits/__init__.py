"""Undercover work: finding categories, visit tasks, visits, findings, callbacks; and the console's review sheet."""
