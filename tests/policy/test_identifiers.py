import pickle
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subsidy.policy.identifiers import (
    CREDIT_CODE_ALPHABET,
    DISABILITY_CATEGORIES,
    IdentifierError,
    ResidentId,
    credit_code_check_character,
    normalize_identifier,
    resident_id_check_character,
    validate_credit_code,
    validate_disability_cert,
    validate_resident_id,
)
from subsidy.policy.regions import region_codes

# The example of GB 11643-1999 (a woman born 1949-12-31 in Beijing Chaoyang).
STANDARD_ID = "11010519491231002X"
# A man born 1990-05-17 registered in Kundulun District, Baotou; check character computed by hand: 6.
BAOTOU_ID = "150203199005171356"
# The commonly cited valid unified social credit code.
CITED_CREDIT_CODE = "91350100M000100Y43"


def _error_code(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(IdentifierError) as caught:
        call(*args)
    return caught.value.code


# --- normalization -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", STANDARD_ID),
        ("１１０１０５１９４９１２３１００２Ｘ", STANDARD_ID),  # full-width, as Chinese input methods type it
        ("１１０１０５１９４９１２３１００２ｘ", STANDARD_ID),
        ("110105 19491231 002x", STANDARD_ID),
        ("110105-19491231-002X", STANDARD_ID),
        ("\u3000110105\t19491231002X\n", STANDARD_ID),  # ideographic space
        ("91350100m000100y43", CITED_CREDIT_CODE),
    ],
)
def test_normalize_identifier(raw: str, expected: str) -> None:
    assert normalize_identifier(raw) == expected


# --- resident ID ---------------------------------------------------------------------------------------


def test_check_character_of_the_standard_example_is_x() -> None:
    assert resident_id_check_character(STANDARD_ID[:17]) == "X"
    assert resident_id_check_character(BAOTOU_ID[:17]) == "6"


@pytest.mark.parametrize("first17", ["1101051949123100", "1101051949123100A", "110105194912310021"])
def test_check_character_needs_exactly_17_digits(first17: str) -> None:
    with pytest.raises(ValueError):
        resident_id_check_character(first17)


def test_valid_resident_id() -> None:
    assert validate_resident_id(STANDARD_ID) == ResidentId(
        number=STANDARD_ID, region_code="110105", birth_date=date(1949, 12, 31), sex="F"
    )
    assert validate_resident_id(BAOTOU_ID) == ResidentId(
        number=BAOTOU_ID, region_code="150203", birth_date=date(1990, 5, 17), sex="M"
    )


@pytest.mark.parametrize(
    "raw", ["11010519491231002x", "１１０１０５１９４９１２３１００２ｘ", " 110105-19491231-002x "]
)
def test_lower_case_x_full_width_digits_and_separators_are_accepted(raw: str) -> None:
    assert validate_resident_id(raw).number == STANDARD_ID


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("11010519491231002", "id_length"),  # one character short
        ("11010519491231002X1", "id_length"),
        ("", "id_length"),
        ("11010519491231002Y", "id_format"),  # last character neither digit nor X
        ("1101051949123100AX", "id_format"),  # a letter among the first 17
        ("X10105194912310021", "id_format"),
        ("110105194902300021", "id_birth_date"),  # 30 February
        ("110105194913010021", "id_birth_date"),  # month 13
        ("15020318991231135X", "id_birth_date"),  # 1899, though the check character is right
        ("110105194912310021", "id_checksum"),  # the standard example with its X replaced
        ("150203199005171357", "id_checksum"),
        ("150203199005171536", "id_checksum"),  # two digits transposed
    ],
)
def test_resident_id_error_codes(raw: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(raw)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("raw", ["110105194912310021", "110105194902300021", "1101051949123100AX", STANDARD_ID[:17]])
def test_error_messages_never_contain_the_number(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(raw)
    for text in (caught.value.message, str(caught.value), repr(caught.value)):
        assert raw not in text
        assert raw[:6] not in text


@given(
    region=st.sampled_from(sorted(region_codes())),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_any_well_formed_id_with_its_check_character_is_valid(region: str, born: date, sequence: int) -> None:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    number = first17 + resident_id_check_character(first17)
    resident = validate_resident_id(number.lower())
    assert resident.number == number
    assert resident.birth_date == born
    assert resident.sex == ("M" if sequence % 2 == 1 else "F")
    for wrong in "0123456789X":
        if wrong != number[17]:
            assert _error_code(validate_resident_id, first17 + wrong) == "id_checksum"


# --- disability certificate ---------------------------------------------------------------------------


def test_valid_disability_certificate() -> None:
    cert = validate_disability_cert(STANDARD_ID + "42")
    assert cert.number == STANDARD_ID + "42"
    assert cert.id_number == STANDARD_ID
    assert (cert.category, cert.grade) == (4, 2)
    assert DISABILITY_CATEGORIES[cert.category] == "physical"


def test_disability_certificate_normalizes_and_matches_the_given_id() -> None:
    cert = validate_disability_cert("１１０１０５１９４９１２３１００２ｘ７１", id_number="110105-19491231-002x")
    assert cert.number == STANDARD_ID + "71"
    assert DISABILITY_CATEGORIES[cert.category] == "multiple"
    assert cert.grade == 1


@pytest.mark.parametrize("category", range(1, 8))
@pytest.mark.parametrize("grade", range(1, 5))
def test_every_category_and_grade_is_accepted(category: int, grade: int) -> None:
    cert = validate_disability_cert(f"{BAOTOU_ID}{category}{grade}", BAOTOU_ID)
    assert (cert.category, cert.grade) == (category, grade)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (STANDARD_ID, "cert_length"),  # the bare ID without category and grade
        (STANDARD_ID + "4", "cert_length"),
        (STANDARD_ID + "421", "cert_length"),
        (STANDARD_ID + "A2", "cert_format"),
        (STANDARD_ID + "4X", "cert_format"),
        ("11010519491231002Y42", "cert_format"),
        ("1101051949123100AX42", "cert_format"),
        ("11010519490230002142", "cert_id_birth_date"),
        ("11010519491231002142", "cert_id_checksum"),
        (STANDARD_ID + "02", "cert_category"),
        (STANDARD_ID + "82", "cert_category"),
        (STANDARD_ID + "90", "cert_category"),
        (STANDARD_ID + "40", "cert_grade"),
        (STANDARD_ID + "45", "cert_grade"),
    ],
)
def test_disability_certificate_error_codes(raw: str, code: str) -> None:
    assert _error_code(validate_disability_cert, raw) == code


def test_disability_certificate_of_someone_else() -> None:
    assert _error_code(validate_disability_cert, STANDARD_ID + "42", BAOTOU_ID) == "cert_id_mismatch"


def test_certificate_errors_do_not_leak_the_number() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_disability_cert("11010519491231002142")
    assert "110105" not in caught.value.message
    assert caught.value.message.startswith("In the disability certificate number")


# --- unified social credit code -----------------------------------------------------------------------


def test_cited_credit_code_is_valid() -> None:
    assert credit_code_check_character(CITED_CREDIT_CODE[:17]) == "3"
    assert validate_credit_code(CITED_CREDIT_CODE) == CITED_CREDIT_CODE


def test_credit_code_is_normalized() -> None:
    assert validate_credit_code(" 91350100m000100y43 ") == CITED_CREDIT_CODE
    assert validate_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == CITED_CREDIT_CODE


def test_baotou_shaped_credit_code() -> None:
    # A company registered in Kundulun District (150203); check character computed by hand: B.
    assert credit_code_check_character("91150203MA0N12345") == "B"
    assert validate_credit_code("91150203MA0N12345B") == "91150203MA0N12345B"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100Y433", "credit_code_length"),
        ("91350100M000100I43", "credit_code_format"),  # I is not in the alphabet
        ("91350100O000100Y43", "credit_code_format"),  # nor O
        ("91350100M00010SY43", "credit_code_format"),  # nor S
        ("9135A100M000100Y43", "credit_code_format"),  # region code with a letter
        ("91350100M000100Y4!", "credit_code_format"),
        ("91350100M000100Y44", "credit_code_checksum"),
        ("91350100M000100Y34", "credit_code_checksum"),
        ("91530100M000100Y43", "credit_code_checksum"),
    ],
)
def test_credit_code_error_codes(raw: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_credit_code(raw)
    assert caught.value.code == code
    assert raw not in caught.value.message


def test_credit_code_check_character_needs_17_alphabet_characters() -> None:
    with pytest.raises(ValueError):
        credit_code_check_character("91350100M000100Y")
    with pytest.raises(ValueError):
        credit_code_check_character("91350100M000100I4")


@given(
    head=st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
    body=st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
)
def test_any_code_with_its_check_character_is_valid(head: str, region: str, body: str) -> None:
    first17 = head + region + body
    code = first17 + credit_code_check_character(first17)
    assert validate_credit_code(code.lower()) == code
    wrong = CREDIT_CODE_ALPHABET[(CREDIT_CODE_ALPHABET.index(code[17]) + 1) % 31]
    assert _error_code(validate_credit_code, first17 + wrong) == "credit_code_checksum"


def test_identifier_errors_survive_pickling() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id("110105194912310021")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.code, copy.message) == (caught.value.code, caught.value.message)


# --- region codes and birth dates in the past ----------------------------------------------------------------


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


def test_the_region_table_holds_every_revision_and_nothing_made_up() -> None:
    codes = region_codes()
    assert len(codes) == 7315
    # Today's Kundulun and Qingshan districts of Baotou, Beijing's Chaoyang, and codes abolished since: Beijing's
    # Chongwen and Xuanwu districts (110103, 110104: merged into Dongcheng and Xicheng in 2010).
    assert {"150203", "150204", "110105", "110103", "110104"} <= codes
    # Renze District of Xingtai (130505), made of Renxian county after the last GB/T 2260 revision of the first
    # source (2019-04): from the Ministry's list of 2025.
    assert "130505" in codes
    assert not {"999999", "150299", "000000", "123456"} & codes


@pytest.mark.parametrize("region", ["999999", "150299", "000000", "990101"])
def test_an_id_whose_region_is_no_gb2260_code_is_refused(region: str) -> None:
    number = _with_check(f"{region}19900517135")
    assert _error_code(validate_resident_id, number) == "id_region"
    assert _error_code(validate_disability_cert, number + "42") == "cert_id_region"


def test_a_birth_date_after_the_given_day_is_refused_and_the_day_itself_is_not() -> None:
    number = _with_check("15020320300101135")  # born 2030-01-01
    assert validate_resident_id(number).birth_date == date(2030, 1, 1)  # without a day: the shape only
    assert _error_code(lambda raw: validate_resident_id(raw, on=date(2029, 12, 31)), number) == "id_birth_date_future"
    assert validate_resident_id(number, on=date(2030, 1, 1)).birth_date == date(2030, 1, 1)
    with pytest.raises(IdentifierError) as caught:
        validate_disability_cert(number + "42", on=date(2029, 12, 31))
    assert caught.value.code == "cert_id_birth_date_future"


@pytest.mark.parametrize(
    "raw",
    [
        "①①０１０５１９４９１２３１００２X",  # circled digits: NFKC made them digits, nobody types them
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits
        "11010519491231002Ⅹ",  # ROMAN NUMERAL TEN, which NFKC turns into X
    ],
)
def test_only_ascii_and_full_width_characters_are_read_as_digits(raw: str) -> None:
    assert _error_code(validate_resident_id, raw) in ("id_format", "id_length")
