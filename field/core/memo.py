"""Look-ups a unit of work repeats, answered once while a scope is open (a batch of records).

A batch of 200 findings names the same category, unit and squad 200 times. Inside
``memoized(session)`` the look-ups that opt in (``remembered``) keep what they found for the
rest of the scope, keyed by what they were asked; outside it they run every time. Only what
was found is kept: a look-up that refuses (raises) is asked again next time. The scope is the
caller's transaction, where a row read once stays what this transaction sees of it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "lookup_memo"


@contextmanager
def memoized(session: Session) -> Iterator[None]:
    """Keep look-ups for the length of the ``with`` block (nested blocks share the outer one's)."""
    if _KEY in session.info:
        yield
        return
    session.info[_KEY] = {}
    try:
        yield
    finally:
        session.info.pop(_KEY, None)


def remembered(session: Session, key: Hashable, look_up: Callable[[], T]) -> T:
    """``look_up()``, or what it answered for ``key`` earlier in an open ``memoized`` scope."""
    memo = session.info.get(_KEY)
    if memo is None:
        return look_up()
    if key not in memo:
        memo[key] = look_up()
    return memo[key]
