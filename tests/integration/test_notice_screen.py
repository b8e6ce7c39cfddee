"""The public-notice screen against evasions: a monitor's or complainant's identity written so as to slip through."""

from __future__ import annotations

from datetime import date

import pytest

from field.cases import lifecycle as cases, notices
from field.directory import squads
from field.core.errors import InvalidInput
from field.cases.models import ComplaintChannel
from field.core.models.platform import Role
from field.core.models.base import utcnow
from field.cases.models import CaseState
from tests.integration.test_cases import (  # noqa: F401  (fixtures)
    _walk_to,
    admin,
    make_case,
    make_record,
    make_user,
    member,
    office,
)

DAY = date(2026, 10, 9)
ZWSP, RLO, PDF, LRI, PDI, WJ, BOM, SHY = "\u200b", "\u202e", "\u202c", "\u2066", "\u2069", "\u2060", "\ufeff", "\u00ad"

#: The monitor is 张卫东 / 13812345678 (stored with +86 and separators); the complainant 陈美玲 / 023-6878 1234.
EVASIONS = {
    "plain": "经查，张卫东反映的问题属实。",
    "zero-width space": f"经查，张{ZWSP}卫{ZWSP}东反映的问题属实。",
    "word joiner and BOM": f"经查，张{WJ}卫{BOM}东反映的问题属实。",
    "soft hyphen": f"经查，张{SHY}卫东反映属实。",
    "right-to-left override": f"经查，张{RLO}卫东{PDF}反映属实。",
    "isolates": f"经查，张{LRI}卫{PDI}东反映属实。",
    "spaces between characters": "暗访员 张 卫 东 发现窗口脱岗。",
    "ideographic spaces": "暗访员张\u3000卫\u3000东发现窗口脱岗。",
    "dashes between characters": "暗访员张-卫—东发现窗口脱岗。",
    "middle dots between characters": "暗访员张·卫・东发现窗口脱岗。",
    "full-width letters around": "ＸＸ张卫东ＹＹ",
    "traditional characters": "經查，張衛東反映的問題屬實。",
    "traditional with zero-width": f"經查，張{ZWSP}衛東反映屬實。",
    "mobile, plain": "联系电话13812345678。",
    "mobile with dashes": "联系电话 138-1234-5678。",
    "mobile with spaces and +86": "联系电话 +86 138 1234 5678。",
    "mobile with 0086": "联系电话0086-138-1234-5678。",
    "mobile in full-width digits": "联系电话１３８１２３４５６７８。",
    "mobile with zero-width spaces": f"联系电话138{ZWSP}1234{ZWSP}5678。",
    "mobile with bidi controls": f"联系电话{LRI}138{PDI}{RLO}12345678{PDF}。",
    "mobile with dots": "联系电话138.1234.5678。",
    "complainant's name": "经核实，陈美玲反映属实。",
    "complainant's name, traditional": "經核實，陳美玲反映屬實。",
    "complainant's landline": "回访电话02368781234。",
    "complainant's landline, international": "回访电话 +86 23 6878 1234。",
    "complainant's landline with brackets": "回访电话（023）6878-1234。",
}


@pytest.fixture
def decided_case(session, office, make_case, make_user, admin):
    squad = squads.create_squad(session, admin, name="第一暗访小分队", code_prefix="JLPS")
    squads.enlist(session, admin, squad, real_name="张卫东", phone="+86 138-1234-5678",
                  user_id=make_user(Role.squad_member).id)
    make_case(sources=[], complaint=cases.ComplaintInput(ComplaintChannel.letter, utcnow(), "来信反映收费问题",
                                                         complainant_name="陳美玲", complainant_contact="023-6878 1234"))
    case = make_case()
    _walk_to(session, office["reviewer"], case, CaseState.deciding)
    return case


@pytest.mark.parametrize("text", EVASIONS.values(), ids=EVASIONS.keys())
def test_a_notice_naming_a_confidential_person_is_refused_however_the_name_is_written(
        session, office, decided_case, text):
    with pytest.raises(InvalidInput) as err:
        notices.issue_notice(session, office["reviewer"], decided_case, text=text, issued_on=DAY, today=DAY)
    assert err.value.fields[0].field == "text"
    assert "张卫东" not in err.value.detail and "陈美玲" not in err.value.detail


@pytest.mark.parametrize("text", [
    "区市场监管局登记窗口推诿扯皮，给予通报批评。",
    "2026年10月9日，对区市场监督管理局138号窗口予以通报。",  # a number, not the phone
    "张某、卫某、东某三人被约谈。",  # the characters apart, in other words
    "处理结果：罚款1234元，整改期限5678天内。",  # digit runs of the phone, far apart
])
def test_a_notice_that_names_nobody_confidential_is_recorded(session, office, decided_case, text):
    notice = notices.issue_notice(session, office["reviewer"], decided_case, text=text, issued_on=DAY, today=DAY)
    assert notice.text == text
