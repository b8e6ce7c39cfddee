"""Unified social credit code (GB 32100-2015) validation with real published codes and every failure kind."""

from __future__ import annotations

import pytest

from field.core.credit_code import (
    ALPHABET,
    WEIGHTS,
    InvalidCreditCode,
    normalise_credit_code,
    validate_credit_code,
)

# Real codes. Unless noted, from python-stdnum tests/test_cn_uscc.doctest
# (arthurdejong/python-stdnum), "found online and should all be valid numbers".
REAL_CODES = [
    pytest.param("91110000600037341L", id="stdnum-enterprise-beijing"),
    pytest.param("121200004013590816", id="stdnum-public-institution-authority-1-type-2"),
    pytest.param("91310115MA1K3BTP2B", id="stdnum-post-2015-organization-code-with-letters"),
    pytest.param("9115220107837757XE", id="stdnum-organization-check-10-written-X"),
    pytest.param("91340621MA2PBPLU08", id="stdnum-organization-check-11-written-0"),
    pytest.param("911522010783762860", id="stdnum-outer-check-31-written-0"),
    pytest.param("91620105L015101280", id="stdnum-letter-at-position-9"),
    pytest.param("92340602MA2PBMEM24", id="stdnum-individual-business-type-92"),
    pytest.param("9144030071526726XG", id="stdnum-shenzhen"),
    # Well-known companies, as quoted in public code (fixtures, validator tests):
    # Huawei Technologies Co., Ltd. (a public GB 32100 validator's Jest test calls it
    # "华为技术有限公司的统一社会信用代码（公开信息）").
    pytest.param("914403001922038216", id="huawei-technologies"),
    # Tencent Technology (Shenzhen) Co., Ltd.
    pytest.param("91440300708461136T", id="tencent-technology-shenzhen"),
    # Alibaba (China) Network Technology Co., Ltd.
    pytest.param("91330100716105852F", id="alibaba-china-network-technology"),
    # Beijing Baidu Netcom Science and Technology Co., Ltd.
    pytest.param("91110000802100433B", id="beijing-baidu-netcom"),
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_published_codes_are_valid_and_come_back_unchanged(code):
    assert validate_credit_code(code) == code


def test_the_weights_are_powers_of_three_mod_31_as_the_standard_lists_them():
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_the_alphabet_has_31_characters_without_i_o_s_v_z():
    assert len(ALPHABET) == 31
    assert not set("IOSVZ") & set(ALPHABET)


def test_surrounding_whitespace_is_stripped_and_letters_upper_cased():
    assert validate_credit_code("  91310115ma1k3btp2b\t\n") == "91310115MA1K3BTP2B"


def test_full_width_input_from_a_chinese_input_method_is_made_half_width():
    full_width = "９１３１０１１５ＭＡ１Ｋ３ＢＴＰ２Ｂ"
    assert validate_credit_code(full_width) == "91310115MA1K3BTP2B"


def test_full_width_lower_case_and_an_ideographic_space_are_handled_too():
    assert validate_credit_code("\u3000９１３１０１１５ｍａ１ｋ３ｂｔｐ２ｂ\u3000") == "91310115MA1K3BTP2B"


def test_normalising_touches_nothing_but_width_case_and_surrounding_space():
    assert normalise_credit_code(" ９1a-ß ") == "91A-ß"


def test_circled_digits_are_not_silently_read_as_digits():
    with pytest.raises(InvalidCreditCode, match="position 1") as caught:
        validate_credit_code("①1110000600037341L")
    assert caught.value.position == 1


@pytest.mark.parametrize(("code", "length"), [("", 0), ("9111000060003734", 16), ("91110000600037341LX", 19)])
def test_a_wrong_length_is_reported_with_the_length_found(code, length):
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code(code)
    assert caught.value.reason == f"must be 18 characters, got {length}"
    assert caught.value.position is None


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_the_five_excluded_letters_are_reported_at_their_position(letter):
    code = "91110000" + letter + "00037341L"
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code(code)
    assert caught.value.position == 9
    assert caught.value.reason == (
        f"illegal character {letter!r} at position 9: the letters I, O, S, V and Z are never used")


def test_a_letter_in_the_administrative_division_code_is_reported():
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code("9111000A600037341L")
    assert caught.value.position == 8
    assert "administrative division code, six digits" in caught.value.reason


def test_punctuation_or_an_inner_space_is_an_illegal_character():
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code("91110000-60003734L")
    assert caught.value.position == 9
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code("91 110000600037341")
    assert caught.value.position == 3


def test_a_chinese_character_is_an_illegal_character():
    with pytest.raises(InvalidCreditCode, match="illegal character '码' at position 18"):
        validate_credit_code("91110000600037341码")


def test_a_wrong_check_digit_names_the_expected_one():
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code("91110000600037341N")
    assert caught.value.reason == "wrong check digit at position 18: expected 'L', got 'N'"
    assert (caught.value.position, caught.value.expected) == (18, "L")


def test_a_single_mistyped_character_is_caught_by_the_check_digit():
    real = "914403001922038216"
    for position in range(17):
        for replacement in ALPHABET:
            if replacement == real[position] or (2 <= position <= 7 and not replacement.isdigit()):
                continue
            typo = real[:position] + replacement + real[position + 1:]
            with pytest.raises(InvalidCreditCode, match="check digit"):
                validate_credit_code(typo)


def test_two_swapped_neighbours_are_caught_by_the_check_digit():
    real = "91310115MA1K3BTP2B"
    for i in range(16):
        if real[i] == real[i + 1]:
            continue
        swapped = real[:i] + real[i + 1] + real[i] + real[i + 2:]
        # A letter moved into positions 3-8 is caught earlier, as an illegal character.
        with pytest.raises(InvalidCreditCode, match="check digit|administrative division code"):
            validate_credit_code(swapped)


def test_a_code_whose_outer_check_holds_but_organization_check_fails_is_refused():
    # Huawei's code (organization code 19220382-1) with the organization-code check
    # changed from 1 to 7, then the outer check recomputed, as a generator that
    # ignores GB 11714 would do.
    first17 = "9144030019220382" + "7"
    with pytest.raises(InvalidCreditCode) as outer:
        validate_credit_code(first17 + "0")
    fabricated = first17 + outer.value.expected
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code(fabricated)
    assert caught.value.reason == "wrong organization-code check digit at position 17: expected '1', got '7'"
    assert (caught.value.position, caught.value.expected) == (17, "1")


def test_a_letter_registration_authority_is_accepted():
    # Authority "Y" (other) is legal; build a consistent code from a real one by
    # taking the check digit the validator asks for.
    first17 = "Y" + "91310115MA1K3BTP2"[1:]
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code(first17 + "0")
    code = first17 + caught.value.expected
    assert validate_credit_code(code) == code


def test_a_non_string_is_refused_as_invalid_input():
    with pytest.raises(InvalidCreditCode, match="must be a string of 18 characters, got int"):
        validate_credit_code(914403001922038216)  # type: ignore[arg-type]


def test_invalid_credit_code_is_a_value_error_whose_message_is_the_reason():
    error = InvalidCreditCode("must be 18 characters, got 3")
    assert isinstance(error, ValueError)
    assert str(error) == "must be 18 characters, got 3"
