"""Accounts, device tokens and the jurisdiction tree."""
