"""The tables every package, and evidence/, may need."""
