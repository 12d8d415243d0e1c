import pytest

from tidings.lib.segments import GSM7, UCS2, TooLong, check, count, decode, split


def _bodies(parts: list[bytes]) -> list[bytes]:
    return [part[6:] for part in parts]


def test_a_short_gsm_text_is_one_sms_without_a_header() -> None:
    coding, parts = split("Hello @ £5 — no", 1)
    assert coding == UCS2  # the em dash is not in the GSM alphabet
    coding, parts = split("Hello @ £5, Ñoño", 1)
    assert coding == GSM7
    assert parts == [bytes.fromhex("48656c6c6f2000200135 2c20 5d6f7d6f".replace(" ", ""))]
    assert decode(parts[0], coding) == "Hello @ £5, Ñoño"


def test_160_gsm_characters_fit_one_sms_and_161_take_two_segments_of_153() -> None:
    assert split("a" * 160, 7)[1] == [b"a" * 160]
    coding, parts = split("a" * 161, 7)
    assert coding == GSM7 and len(parts) == 2
    assert parts[0][:6] == bytes([5, 0, 3, 7, 2, 1]) and parts[1][:6] == bytes([5, 0, 3, 7, 2, 2])
    assert [len(body) for body in _bodies(parts)] == [153, 8]


def test_an_extension_character_counts_two_and_is_never_split_from_its_escape() -> None:
    assert count("€" * 80) == (160, 1, "GSM-7")
    text = "a" * 152 + "€" + "b" * 10
    coding, parts = split(text, 1)
    bodies = _bodies(parts)
    assert bodies[0] == b"a" * 152  # the € would have straddled the boundary
    assert bodies[1] == bytes([0x1B, 0x65]) + b"b" * 10
    assert "".join(decode(body, coding) for body in bodies) == text


def test_a_text_outside_the_gsm_alphabet_goes_as_ucs2_70_then_67_per_segment() -> None:
    assert count("ç" * 70) == (70, 1, "UCS-2")
    coding, parts = split("ç" * 71, 3)
    assert coding == UCS2
    assert [len(body) for body in _bodies(parts)] == [134, 8]
    assert "".join(decode(body, coding) for body in _bodies(parts)) == "ç" * 71


def test_a_surrogate_pair_is_never_split() -> None:
    text = "x" * 66 + "😀" + "y" * 10
    coding, parts = split(text, 3)
    bodies = _bodies(parts)
    assert len(bodies[0]) == 132  # 66 code units: the emoji's pair went to the next segment
    assert "".join(decode(body, coding) for body in bodies) == text


def test_swahili_and_spanish_texts_stay_gsm7_where_the_alphabet_has_them() -> None:
    assert count("Habari! Jiandikishe kupokea taarifa.")[2] == "GSM-7"
    assert count("¿Dónde está la embajada?")[2] == "UCS-2"  # ó and á are not in GSM 03.38
    assert count("¿Está ahí?")[2] == "UCS-2"
    assert count("¡Año nuevo! ¿Qué tal?")[2] == "GSM-7"  # é and ñ are
    assert count("¡Ño!")[2] == "GSM-7"


def test_a_text_longer_than_ten_segments_is_refused_with_the_reason() -> None:
    check("a" * 153 * 10)
    with pytest.raises(TooLong, match="11 segments"):
        check("a" * (153 * 10 + 1))
