"""field/core/memo.py: look-ups answered once inside a scope, every time outside it."""

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import pytest

from field.core.memo import memoized, remembered


def test_inside_a_scope_a_look_up_runs_once_per_key_and_outside_every_time():
    session = Session(create_engine("sqlite://"))
    calls = []

    def look_up(key):
        calls.append(key)
        return f"row {key}"

    assert remembered(session, "a", lambda: look_up("a")) == "row a"
    assert remembered(session, "a", lambda: look_up("a")) == "row a"
    assert calls == ["a", "a"]
    with memoized(session):
        with memoized(session):  # a nested scope shares the outer one's
            assert remembered(session, "b", lambda: look_up("b")) == "row b"
        assert remembered(session, "b", lambda: look_up("b")) == "row b"
        assert remembered(session, "c", lambda: look_up("c")) == "row c"
    assert calls == ["a", "a", "b", "c"]
    remembered(session, "b", lambda: look_up("b"))
    assert calls[-1] == "b" and len(calls) == 5  # the scope is over: asked again


def test_a_look_up_that_raises_is_asked_again():
    session = Session(create_engine("sqlite://"))
    answers = iter([LookupError("not yet"), "found"])

    def look_up():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with memoized(session):
        with pytest.raises(LookupError):
            remembered(session, "k", look_up)
        assert remembered(session, "k", look_up) == "found"
