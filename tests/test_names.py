"""A name after a title in a short answer: what "who" is answered with."""

from __future__ import annotations

import pytest

from qa.names import name_after_title


@pytest.mark.parametrize(
    ("span", "name"),
    [
        ("teacher Anne Whitby", "Anne Whitby"),
        ("the poet Ines de Souza", "Ines de Souza"),
        ("Anne Whitby", "Anne Whitby"),  # no title: the span as it is
        # Phrases, not titles: the span as it is.
        ("the director of the Lighthouse Museum", "the director of the Lighthouse Museum"),
        ("three weather stations in Sweden", "three weather stations in Sweden"),
        ("a teacher", "a teacher"),
        ("teacher Anne Whitby and her sister", "teacher Anne Whitby and her sister"),
    ],
)
def test_the_name_is_what_follows_a_title(span: str, name: str) -> None:
    assert span[name_after_title(span) :] == name
