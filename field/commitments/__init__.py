"""Unit heads' service commitments (服务承诺书): letters, items, the office's checks, the yearly report (述职).

Design in docs/service.md §3. A broken commitment opens a case (``field.cases.lifecycle.open_case``
with an origin); who may do what is policy.py's table.
"""
