"""A span that enumerates comes apart into its items, each with exact offsets."""

from __future__ import annotations

import pytest

from qa.lists import enumeration_items, list_items


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


def test_a_list_answer_takes_items_and_short_spans_but_no_clause() -> None:
    text = (
        "Two of the countries that turned Beijing down have since signed security deals with "
        "Australia: Vanuatu and Papua New Guinea. The Royal Canadian Mounted Police declined."
    )

    def taken(span: str) -> list[str]:
        start = text.index(span)
        return [text[a:b] for a, b in list_items(text, start, start + len(span))]

    assert taken("Vanuatu and Papua New Guinea") == ["Vanuatu", "Papua New Guinea"]
    assert taken("The Royal Canadian Mounted Police") == ["The Royal Canadian Mounted Police"]
    assert taken("Two of the countries that turned Beijing down have since signed") == []
