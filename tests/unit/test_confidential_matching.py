"""Folding text to find a confidential name or phone number in it (field/cases/confidential.py), without a database."""

from __future__ import annotations

import pytest

from field.cases.confidential import fold, mentions_any, national_number, needles

NAME, MOBILE, LANDLINE = "张卫东", "13812345678", "023-6878 1234"


@pytest.mark.parametrize("written", [
    "张卫东", "張衛東", "张\u200b卫\u200c东", "张\u202e卫东\u202c", "张\u2066卫\u2069东", "张\u00ad卫东", "\ufeff张卫东",
    "张 卫 东", "张\u3000卫\u3000东", "张-卫-东", "张—卫–东", "张·卫・东", "张.卫.东", "张_卫/东", "张（卫）东",
    "张\u0301卫东",  # a combining mark stacked on a character
])
def test_a_name_folds_to_the_same_letters_however_it_is_written(written):
    assert fold(written) == fold(NAME) == "张卫东"


@pytest.mark.parametrize("written, folded", [
    ("ＣＡＮＡＲＹ－ａｂｃ１２３", "canaryabc123"),  # full-width letters and digits
    ("Canary-ABC-123", "canaryabc123"),
    ("陳美玲", "陈美玲"), ("劉德華", "刘德华"), ("鄭", "郑"),
    ("綫", "线"),  # a Hong Kong variant, through the standard traditional form
])
def test_full_width_forms_case_and_traditional_characters_fold_away(written, folded):
    assert fold(written) == folded


@pytest.mark.parametrize("written", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678", "0086 138 1234 5678",
    "8613812345678", "１３８１２３４５６７８", "138\u200b1234\u200b5678", "\u2066138\u2069\u202e12345678\u202c",
    "138.1234.5678", "(138) 1234-5678", "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
])
def test_a_mobile_number_is_found_whatever_separates_its_digits(written):
    assert mentions_any(f"联系电话{written}。", [MOBILE])
    assert mentions_any(f"联系电话{written}。", ["+86 138-1234-5678"])  # stored with a prefix, found without


@pytest.mark.parametrize("written", ["02368781234", "023-6878 1234", "(023) 68781234", "+86 23 6878 1234",
                                     "0086-23-68781234"])
def test_a_landline_is_found_with_or_without_its_area_prefix_forms(written):
    assert mentions_any(f"回访电话{written}", [LANDLINE])


def test_national_numbers_drop_the_country_prefix_and_the_trunk_zero():
    assert national_number("8613812345678") == national_number("008613812345678") == "13812345678"
    assert national_number("02368781234") == national_number("862368781234") == "2368781234"


def test_a_contact_mixing_an_address_and_a_phone_is_looked_for_in_both_parts():
    contact = "chen.meiling@example.cn 13900001111"
    found = needles(contact)
    assert found.phones == {"13900001111"} and "chenmeilingexamplecn" in found.names
    assert mentions_any("来信地址 CHEN.MEILING@EXAMPLE.CN", [contact])
    assert mentions_any("回电 139 0000 1111", [contact])


@pytest.mark.parametrize("text", [
    "区市场监管局登记窗口推诿扯皮，给予通报批评。",
    "张某、卫某、东某三人被约谈。",
    "罚款1381元，另处2345元。",
    "2026年10月9日对138号窗口通报。",
])
def test_text_that_names_nobody_is_not_matched(text):
    assert not mentions_any(text, [NAME, MOBILE, LANDLINE, None, ""])


def test_a_single_character_or_a_short_number_is_never_a_needle():
    assert needles("张").names == frozenset() and needles("12345").phones == frozenset()
    assert not mentions_any("张三丰", ["张"])
