"""JSON that would store badly is refused before any view sees it."""

import pytest

from api.bodies import _Malformed, _Refused, check_json_body


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'[1, NaN]'])
def test_non_finite_numbers_are_refused(raw):
    with pytest.raises(_Refused) as err:
        check_json_body(raw)
    assert not isinstance(err.value, _Malformed)


def test_a_nul_character_is_refused_with_its_field_path():
    with pytest.raises(_Refused) as err:
        check_json_body(b'{"outer": {"name": "a\\u0000b"}}')
    assert err.value.path == "outer.name"


def test_a_lone_surrogate_is_refused_with_its_field_path():
    with pytest.raises(_Refused) as err:
        check_json_body(b'{"list": ["ok", "\\ud800"]}')
    assert err.value.path == "list.1"


def test_a_nul_in_a_key_is_refused():
    with pytest.raises(_Refused):
        check_json_body(b'{"a\\u0000": 1}')


def test_a_proper_surrogate_pair_is_accepted():
    check_json_body('{"emoji": "\\ud83d\\ude00", "name": "九龙坡"}'.encode())


def test_malformed_json_is_distinguished_from_refused_values():
    with pytest.raises(_Malformed):
        check_json_body(b'{"a": ')
    with pytest.raises(_Malformed):
        check_json_body(b'\xff\xfe')


def test_a_body_nested_deeper_than_the_limit_is_refused_before_it_is_parsed():
    raw = b"[" * 1000 + b"]" * 1000  # 2 KB: json.loads alone would raise RecursionError
    with pytest.raises(_Malformed) as err:
        check_json_body(raw, max_depth=32)
    assert "32" in str(err.value)


def test_nesting_up_to_the_limit_is_accepted_and_one_more_level_is_not():
    check_json_body(b'{"a": ' * 31 + b"[1]" + b"}" * 31, max_depth=32)
    with pytest.raises(_Malformed):
        check_json_body(b'{"a": ' * 32 + b"[1]" + b"}" * 32, max_depth=32)


def test_brackets_inside_strings_and_escaped_quotes_do_not_count_as_nesting():
    text = '"\\"[[[[{{{{\\\\"'  # a string holding an escaped quote, brackets and an escaped backslash
    check_json_body(('{"a": [' + text + ', "' + "[" * 500 + '"]}').encode(), max_depth=2)
