"""Evidence attached to records: links, plausibility, access, receipt, derivatives, damaged originals."""
