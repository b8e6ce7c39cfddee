"""Inspectors' units, inspection filings, compulsory measures, on-site inspection records."""
