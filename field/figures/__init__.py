"""The office's figures."""
