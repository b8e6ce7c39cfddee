"""Accountability cases: lifecycle, parties, notices, evidence, exports."""
