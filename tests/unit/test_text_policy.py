"""The input policy for names, codes, titles and free text (field/core/text.py), without a database."""

from __future__ import annotations

import unicodedata

import pytest

from field.core import text
from field.core.text import BIDI_EMBEDDINGS, BIDI_MARKS, ZERO_WIDTH, TextRefused

INVISIBLE = sorted(BIDI_EMBEDDINGS | BIDI_MARKS | ZERO_WIDTH) + ["\u00ad", "\u180e", "\u2061", "\U000e0041"]
CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in "\n\t\r"] + ["\x7f", "\x85", "\x9b"]


def test_a_line_is_stored_nfc_and_trimmed_of_any_white_space():
    assert text.line("  Cafe\u0301 九龙坡区\u3000") == "Café 九龙坡区"
    assert unicodedata.is_normalized("NFC", text.line("e\u0301"))


@pytest.mark.parametrize("ch", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_line_refuses_every_invisible_formatting_character_and_names_it(ch):
    with pytest.raises(TextRefused) as err:
        text.line(f"九龙{ch}坡区")
    assert f"U+{ord(ch):04X}" in str(err.value) and "九龙" not in str(err.value)


@pytest.mark.parametrize("ch", CONTROLS + ["\n", "\t", "\r", "\u2028", "\u2029", "\ud800"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_a_line_refuses_control_characters_line_breaks_and_lone_surrogates(ch):
    with pytest.raises(TextRefused):
        text.line(f"名{ch}称")


@pytest.mark.parametrize("value", ["   ", "\u3000", " \u00a0 "])
def test_a_line_of_only_white_space_is_empty(value):
    assert text.line(value) == ""


@pytest.mark.parametrize("value", ["\u200b", " \ufeff ", "\u202e"])
def test_a_line_of_only_invisible_characters_is_refused_not_emptied(value):
    with pytest.raises(TextRefused):
        text.line(value)


@pytest.mark.parametrize("value", ["九龙坡区市场监督管理局", "JLP-A07", "张卫东", "O'Brien", "Zoë Ångström",
                                   "𠮷野家", "\ue000生僻字", "😀"])
def test_a_line_keeps_ordinary_names_of_any_script(value):
    assert text.line(value) == value


def test_a_text_keeps_newlines_and_tabs_and_writes_every_line_break_as_lf():
    assert text.multiline(" 第一行\r\n第二行\r第三行\u2028第四行\u2029\t缩进 ") == "第一行\n第二行\n第三行\n第四行\n\t缩进"


@pytest.mark.parametrize("ch", CONTROLS + ["\ud800"], ids=lambda c: f"U+{ord(c):04X}")
def test_a_text_refuses_other_control_characters(ch):
    with pytest.raises(TextRefused):
        text.multiline(f"说明{ch}文字")


@pytest.mark.parametrize("ch", sorted(BIDI_EMBEDDINGS), ids=lambda c: f"U+{ord(c):04X}")
def test_a_text_refuses_bidi_embeddings_overrides_and_isolates(ch):
    with pytest.raises(TextRefused) as err:
        text.multiline(f"付款{ch}000,1{ch}元")
    assert f"U+{ord(ch):04X}" in str(err.value)


@pytest.mark.parametrize("value", ["👨\u200d👩\u200d👧 一家人", "مەن\u200fئۇيغۇر", "ab\u200bcd", "من\u200cمی"])
def test_a_text_keeps_joiners_and_direction_marks_that_honest_text_uses(value):
    assert text.multiline(value) == value
