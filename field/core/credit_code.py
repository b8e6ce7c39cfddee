"""The unified social credit code (统一社会信用代码, GB 32100-2015): normalise and validate.

Eighteen characters from a 31-character alphabet, 0-9 and the capital letters
without I, O, S, V and Z (so they cannot be misread as 1, 0, 5, U/Y and 2):

==========  =====================================================================
position    meaning
==========  =====================================================================
1           registration authority (登记管理部门): 1 机构编制, 5 民政, 9 市场监管, Y other …
2           entity type under that authority: 91 enterprise, 92 individual business,
            93 farmers' cooperative, 12 public institution, 51 social organisation …
3-8         administrative division code of the registering office (GB/T 2260), 6 digits
9-17        the entity identifier, i.e. the organization code (GB 11714): 8 characters
            and its own check character at position 17
18          check character over positions 1-17: weights 3^(i-1) mod 31, that is
            1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28; value 31 - sum mod 31,
            where 31 means 0; written with the same alphabet
==========  =====================================================================

Both check characters are verified. The organization-code check (GB 11714:
weights 3 7 9 10 5 8 4 2, letters valued A=10 … Z=35, value 11 - sum mod 11, 10
written X and 11 written 0) holds for every real code: GB 32100 takes positions
9-17 whole from GB 11714, for entities that had an organization code before 2015
and for those given one since. All 138 real codes of python-stdnum's test set and
those in our tests satisfy it. A code that passes the outer check but fails the
inner one has most likely been made up by a generator that computes only position
18, and is refused.

Not checked, on purpose: whether positions 1-2 are an assigned authority/type pair
(the table has grown since 2015, e.g. N for rural collective economic
organisations) and whether positions 3-8 are a current division code (divisions are
renamed and merged while codes stay valid). Whether a code exists is a question
for the registry, not for arithmetic.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {character: value for value, character in enumerate(ALPHABET)}
#: GB 32100 weights for positions 1-17: 3 ** (i - 1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
#: GB 11714 weights for the eight characters of the organization code body.
ORGANIZATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18
_DIVISION_POSITIONS = range(3, 9)  # 1-based, inclusive of 8
_NEVER_USED = "IOSVZ"
# Chinese input methods in full-width mode type U+FF01-U+FF5E for ASCII 0x21-0x7E,
# and U+3000 for a space. Map exactly those, rather than NFKC, which would also
# turn circled or superscript digits into plain ones.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# ASCII only: str.upper() would also turn "ß" into "SS" and shift every position after it.
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class InvalidCreditCode(ValueError):
    """Not a well-formed unified social credit code; ``reason`` says why, ``position`` (1-based) where."""

    def __init__(self, reason: str, *, position: int | None = None, expected: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.position = position
        #: For a check-digit error, the character the rule expects at ``position``.
        self.expected = expected


def normalise_credit_code(code: str) -> str:
    """Full-width characters to half-width, surrounding whitespace removed, a-z upper-cased; nothing checked."""
    return code.translate(_HALF_WIDTH).strip().translate(_ASCII_UPPER)


def _check_character(first17: str) -> str:
    total = sum(_VALUE[character] * weight for character, weight in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def _organization_check_character(body8: str) -> str:
    # GB 11714 values digits as themselves and letters A-Z as 10-35: base-36 digits.
    total = sum(int(character, 36) * weight for character, weight in zip(body8, ORGANIZATION_CODE_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def _illegal_character(code: str) -> InvalidCreditCode | None:
    for position, character in enumerate(code, start=1):
        if position in _DIVISION_POSITIONS and not ("0" <= character <= "9"):
            return InvalidCreditCode(
                f"illegal character {character!r} at position {position}: positions 3-8 are the "
                "administrative division code, six digits",
                position=position,
            )
        if character not in _VALUE:
            why = ("the letters I, O, S, V and Z are never used" if character in _NEVER_USED
                   else "only digits and capital letters other than I, O, S, V and Z are used")
            return InvalidCreditCode(f"illegal character {character!r} at position {position}: {why}",
                                     position=position)
    return None


def validate_credit_code(code: str) -> str:
    """The normalised code if it is a well-formed unified social credit code; otherwise InvalidCreditCode.

    Checked in this order, the first failure is reported: length, each character,
    the check character at position 18, the organization-code check character at
    position 17. Positions are 1-based and count in the normalised code (after
    surrounding whitespace is removed). Inner spaces or hyphens are not removed:
    they are reported as illegal characters, since no printed code has them.
    """
    if not isinstance(code, str):
        raise InvalidCreditCode(f"must be a string of {LENGTH} characters, got {type(code).__name__}")
    code = normalise_credit_code(code)
    if len(code) != LENGTH:
        raise InvalidCreditCode(f"must be {LENGTH} characters, got {len(code)}")
    if (error := _illegal_character(code)) is not None:
        raise error
    expected = _check_character(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(f"wrong check digit at position 18: expected {expected!r}, got {code[17]!r}",
                                position=18, expected=expected)
    expected = _organization_check_character(code[8:16])
    if code[16] != expected:
        raise InvalidCreditCode(
            f"wrong organization-code check digit at position 17: expected {expected!r}, got {code[16]!r}",
            position=17, expected=expected)
    return code
