"""A span that enumerates comes apart into its items, each with exact offsets."""

from __future__ import annotations

import pytest

from qa.lists import enumeration_items


def items(text: str) -> list[str]:
    return [text[a:b] for a, b in enumeration_items(text, 0, len(text))]


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (
            "Madrid, Barcelona, Valencia and Santiago de Compostela",
            ["Madrid", "Barcelona", "Valencia", "Santiago de Compostela"],
        ),
        ("Canada and the Netherlands", ["Canada", "the Netherlands"]),
        ("the U.S., Canada, and Ireland", ["the U.S.", "Canada", "Ireland"]),
        (
            "Bluenose Bakery\n\nHarbour Books\n\nThe Salt Works",
            ["Bluenose Bakery", "Harbour Books", "The Salt Works"],
        ),
        ("tea; coffee; or juice", ["tea", "coffee", "juice"]),
    ],
)
def test_enumerations_split_into_items(span: str, expected: list[str]) -> None:
    assert items(span) == expected


@pytest.mark.parametrize(
    "span",
    [
        "Fujian",
        "the police left the building, and then she stayed at home all day long",
        "Santiago de Compostela",
    ],
)
def test_anything_else_stays_whole(span: str) -> None:
    assert items(span) == [span]


def test_offsets_point_into_the_whole_text() -> None:
    text = "Stations were found in Rome, Milan and Florence last year."
    start = text.index("Rome")
    end = text.index(" last")
    found = enumeration_items(text, start, end)
    assert [text[a:b] for a, b in found] == ["Rome", "Milan", "Florence"]
