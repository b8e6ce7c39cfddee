"""How every harness prints what it counted: the counts in a stated order, the time, the failures."""

from __future__ import annotations


def report(result: dict, order: tuple[str, ...], *, hide: frozenset[str] = frozenset(), rate_of: str = "") -> None:
    """Print ``result`` (``counts``, ``failures``, ``seconds``): ``order`` first, then any other count."""
    counts = result["counts"]
    for name in order:
        print(f"  {name}: {counts.get(name, 0)}")
    for name in sorted(set(counts) - set(order) - hide):
        print(f"  {name}: {counts[name]}")
    seconds = result["seconds"]
    rate = f"  ({counts[rate_of] / max(seconds, 1e-9):.0f} {rate_of}/s)" if rate_of else ""
    print(f"  seconds: {seconds:.1f}{rate}")
    print(f"failures: {len(result['failures'])}")
    for line in result["failures"][:20]:
        print("  " + line)
