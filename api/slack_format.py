"""Answers as Slack messages (Block Kit), and Slack message text as plain questions.

Pure functions, no Slack client: the Slack app (``api/slack_app.py``) posts what these return.
Slack's mrkdwn has no escape character, so besides the three entities Slack requires
(``&`` ``<`` ``>``) the characters that would start formatting (``*`` ``_`` ``~`` `````) are shown
as look-alikes in quoted text. That changes only what people see: the citation offsets in the
API (``/ask``, ``/documents/{id}``) still point at the exact document text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.answering import AskResponse
from qa.answers import Answer, Citation, citation_place

# Slack's limits (https://api.slack.com/reference/block-kit/blocks), with room to spare where a
# cut would be ugly rather than refused.
SECTION_TEXT_MAX = 3000
BLOCKS_MAX = 50
MESSAGE_TEXT_MAX = 40_000

# Ours: how much of a message one answer may take, so a list answer stays readable.
QUOTE_CHARS = 500  # raw characters; escaped, that is at most 5x, still under SECTION_TEXT_MAX
ANSWER_CHARS = 300
TITLE_CHARS = 150
URL_CHARS = 1000
QUOTES_MAX = 10  # quote blocks in one message
QUOTES_PER_SINGLE_ANSWER = 3  # when there is one answer, show more of its support
FALLBACK_CHARS = 3000  # the notification text; far below MESSAGE_TEXT_MAX

ELLIPSIS = "…"
_ZERO_WIDTH_SPACE = "\u200b"

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Look-alikes for the characters that open mrkdwn formatting.
_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
_DISPLAY = str.maketrans({**_ENTITIES, **_LOOKALIKES})
_PLAIN = str.maketrans(_ENTITIES)


@dataclass(frozen=True)
class SlackMessage:
    """What ``chat.postMessage`` (or a ``response_url``) gets: a plain ``text`` fallback, shown
    in notifications and by clients without Block Kit, and the ``blocks`` (empty: text only)."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


# --- Slack text -> question -------------------------------------------------------------------

_SPECIAL = re.compile(r"<([^<>]*)>")


def question_from_slack_text(text: str, bot_user_id: str | None = None) -> str:
    """The plain question in a message or slash-command text: the bot's own mention removed,
    other mentions, channels and links turned into what a person reads, entities decoded."""

    def readable(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "" if target[1:] == bot_user_id else "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):  # <!here>, <!channel>, <!subteam^ID|@team>
            return label or "@" + target[1:].split("^")[0]
        return label or target.removeprefix("mailto:")

    plain = _SPECIAL.sub(readable, text)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(plain.split())


def session_id_for_thread(team_id: str, channel_id: str, thread_ts: str) -> str:
    """One conversation session per Slack thread."""
    return f"slack:{team_id}:{channel_id}:{thread_ts}"


# --- escaping ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three required entities; for text that may keep its own formatting."""
    return text.translate(_PLAIN)


def display_text(text: str) -> str:
    """Document text for mrkdwn: entities escaped, formatting characters shown as look-alikes,
    whitespace (newlines too) collapsed so a quote stays one blockquote line."""
    return " ".join(text.split()).translate(_DISPLAY)


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def _clip_mrkdwn(text: str, limit: int) -> str:
    """A last guard for an escaped mrkdwn string: cut without splitting an entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = re.sub(r"&[a-z]*$", "", cut)
    return cut + ELLIPSIS


def _link(url: str, label: str) -> str:
    """``<url|label>`` for web addresses; just the label for anything else."""
    url = url.strip()
    if not re.match(r"https?://", url, re.IGNORECASE) or len(url) > URL_CHARS:
        return label
    # '|' and '>' would end the link's parts early; spaces are not valid in a URL anyway.
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E")
    safe = safe.replace("|", "%7C").replace(" ", "%20")
    return f"<{safe}|{label}>"


# --- quotes -----------------------------------------------------------------------------------


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _window(length: int, spans: Sequence[tuple[int, int]], limit: int) -> tuple[int, int]:
    """The part of a quote to show: all of it when short, else ``limit`` characters around the
    first highlighted span, cut at spaces where that does not cut into the span."""
    if length <= limit:
        return 0, length
    first_start, first_end = spans[0] if spans else (0, 0)
    shown = min(first_end - first_start, limit)
    start = max(0, first_start - (limit - shown) // 2)
    end = min(length, start + limit)
    start = max(0, end - limit)
    return start, end


def highlighted_quote(
    quote: str, spans: Sequence[tuple[int, int]], limit: int = QUOTE_CHARS
) -> str:
    """The quote as mrkdwn with each span (offsets into ``quote``) in bold, cut to about
    ``limit`` characters around the first span with an ellipsis where text was left out."""
    spans = _merged([(max(0, s), min(len(quote), e)) for s, e in spans if e > s and s < len(quote)])
    start, end = _window(len(quote), spans, limit)
    if start > 0:  # cut at a word boundary, never into the first span
        space = quote.find(" ", start, spans[0][0] if spans else end)
        start = space + 1 if space != -1 else start
    if end < len(quote):
        last_span_end = max([e for s, e in spans if s < end], default=start)
        space = quote.rfind(" ", max(start, last_span_end), end)
        end = space if space != -1 else end
    out = ELLIPSIS if start > 0 else ""
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        out += _inline(quote[position:span_start]) + _bold(quote, span_start, span_end)
        position = span_end
    out += _inline(quote[position:end])
    return out.strip() + (ELLIPSIS if end < len(quote) else "")


def _inline(text: str) -> str:
    """``display_text`` that keeps one space at either edge, for text between bold spans."""
    return re.sub(r"\s+", " ", text).translate(_DISPLAY)


def _bold(text: str, start: int, end: int) -> str:
    """``*span*``, with any edge whitespace moved outside the asterisks (Slack shows no bold
    for ``* x*``). Slack renders bold only at word boundaries, so a span inside a word gets a
    zero-width space on that side."""
    inner = text[start:end]
    lead = " " if inner[:1].isspace() else ""
    trail = " " if inner[-1:].isspace() else ""
    inner = display_text(inner)
    if not inner:
        return lead or trail
    before = _ZERO_WIDTH_SPACE if not lead and start > 0 and text[start - 1].isalnum() else ""
    after = _ZERO_WIDTH_SPACE if not trail and end < len(text) and text[end].isalnum() else ""
    return f"{lead}{before}*{inner}*{after}{trail}"


# --- answers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quote:
    citation: Citation
    spans: list[tuple[int, int]]
    source_number: int


def format_answer(
    response: AskResponse, publishers: Mapping[str, str] | None = None
) -> SlackMessage:
    """The Slack message for an answer: the answer(s), supporting quotes with the answer in
    bold and a source number, then the numbered sources (title, publisher, link when the
    document has a web address). An abstention is the plain abstention message."""
    if response.abstained or not response.answers:
        return SlackMessage(
            text=escape(response.message or "I could not find that in the documents.")
        )
    publishers = publishers or {}
    quotes, sources = _quotes_and_sources(response.answers)
    blocks: list[dict[str, Any]] = [_section(_answers_mrkdwn(response.answers))]
    resolved = response.resolved_question
    if resolved and resolved.casefold().rstrip("?!") != response.question.casefold().rstrip("?!"):
        blocks.append(_context(f"Answering: {display_text(response.resolved_question)}"))
    for quote in quotes:
        text = highlighted_quote(quote.citation.quote, quote.spans)
        blocks.append(_section(f"&gt; {text} [{quote.source_number}]{_place(quote.citation)}"))
    blocks.append(_section(_sources_mrkdwn(sources, publishers)))
    return SlackMessage(
        text=_fallback(response.answers, quotes, sources), blocks=blocks[:BLOCKS_MAX]
    )


def format_notice(text: str) -> SlackMessage:
    """A plain message of ours (usage, not ready, an error), escaped."""
    return SlackMessage(text=escape(_clip(text, FALLBACK_CHARS)))


def _quotes_and_sources(answers: Sequence[Answer]) -> tuple[list[_Quote], list[Citation]]:
    """Which citations to quote (one per answer, a few for a lone answer; a sentence quoted
    once, with every shown answer in it bold) and the numbered list of their documents."""
    per_answer = QUOTES_PER_SINGLE_ANSWER if len(answers) == 1 else 1
    chosen: dict[tuple[str, int, int], tuple[Citation, list[tuple[int, int]]]] = {}
    for answer in answers:
        for citation in answer.citations[:per_answer]:
            key = (citation.doc_id, citation.quote_start, citation.quote_end)
            if key not in chosen:
                if len(chosen) >= QUOTES_MAX:
                    continue
                chosen[key] = (citation, [])
            chosen[key][1].append(
                (citation.start - citation.quote_start, citation.end - citation.quote_start)
            )
    numbers: dict[str, int] = {}
    sources: list[Citation] = []
    quotes: list[_Quote] = []
    for citation, spans in chosen.values():
        if citation.doc_id not in numbers:
            numbers[citation.doc_id] = len(sources) + 1
            sources.append(citation)
        quotes.append(_Quote(citation, spans, numbers[citation.doc_id]))
    return quotes, sources


def _answers_mrkdwn(answers: Sequence[Answer]) -> str:
    if len(answers) == 1:
        return f"*{display_text(_clip(answers[0].text, ANSWER_CHARS))}*"
    lines: list[str] = []
    used = 0
    for shown, answer in enumerate(answers):
        line = f"• {display_text(_clip(answer.text, ANSWER_CHARS))}"
        if used + len(line) + 40 > SECTION_TEXT_MAX:
            lines.append(f"… and {len(answers) - shown} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _sources_mrkdwn(sources: Sequence[Citation], publishers: Mapping[str, str]) -> str:
    lines = ["*Sources*"]
    for number, citation in enumerate(sources, start=1):
        title = display_text(_clip(citation.title or citation.doc_id, TITLE_CHARS))
        line = f"{number}. {_link(citation.source, title)}"
        publisher = publishers.get(citation.doc_id, "")
        if publisher:
            line += f" · {display_text(_clip(publisher, TITLE_CHARS))}"
        lines.append(line)
    return _clip_mrkdwn("\n".join(lines), SECTION_TEXT_MAX)


def _fallback(
    answers: Sequence[Answer], quotes: Sequence[_Quote], sources: Sequence[Citation]
) -> str:
    """The notification text: the answers, and the first quote with its source."""
    text = "; ".join(_clip(a.text, ANSWER_CHARS) for a in answers)
    if quotes:
        first = quotes[0]
        title = sources[first.source_number - 1].title or first.citation.doc_id
        where = ", ".join(filter(None, [_clip(title, TITLE_CHARS), citation_place(first.citation)]))
        text += f' — "{_clip(first.citation.quote, QUOTE_CHARS)}" ({where})'
    return display_text(_clip(text, FALLBACK_CHARS))


def _place(citation: Citation) -> str:
    """Where in its document a quote is, to follow it: " · p. 2, § Finances" ("" if unknown)."""
    place = citation_place(citation)
    return f" · {display_text(_clip(place, TITLE_CHARS))}" if place else ""


def _section(mrkdwn: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip_mrkdwn(mrkdwn, SECTION_TEXT_MAX)},
    }


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip_mrkdwn(mrkdwn, 2000)}]}
