"""Undercover work: finding categories, visit tasks, visits, findings, callbacks."""
