import pytest

from commerce.money import MoneyFormatError, fen_to_yuan, split_largest_remainder, yuan_to_fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [("5999.00", 599900), ("12.5", 1250), ("0", 0), ("0.01", 1), (" 1,299.90 ", 129990), (7, 700)],
)
def test_yuan_text_becomes_exact_fen(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "-1", "1.001", "NaN", "Infinity", "1e20"])
def test_bad_amounts_are_refused(text):
    with pytest.raises(MoneyFormatError):
        yuan_to_fen(text)


def test_fen_is_shown_with_two_decimals():
    assert fen_to_yuan(599900) == "5999.00"
    assert fen_to_yuan(5) == "0.05"
    assert fen_to_yuan(-150) == "-1.50"


def test_largest_remainder_split_adds_up_and_is_fair():
    # given a 10.00 discount over lines worth 1, 1 and 1
    parts = split_largest_remainder(1000, [1, 1, 1])
    # then the parts add up exactly, differing by at most one fen
    assert sum(parts) == 1000
    assert parts == [334, 333, 333]
    assert split_largest_remainder(7, [50, 30, 20]) == [4, 2, 1]
    assert split_largest_remainder(0, [3, 4]) == [0, 0]
    with pytest.raises(ValueError):
        split_largest_remainder(10, [0, 0])
