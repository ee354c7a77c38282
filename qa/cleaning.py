"""Cleaning: strip a scraped page's boilerplate (menus, link lists, share rows, ads, inserts,
comment forms, footers, repeats) and keep every sentence of the article, verbatim.

The rules are general, never a list of one site's strings:

1. a line that is boilerplate on its own (`is_boilerplate_line`): image file names, short bullets,
   ``a | b | c`` menus, ad and insert markers that many sites share ("Also Read:",
   "Advertisement", "Leave a Reply", ...), shortcodes, tag lists, copyright and contact lines;
2. numbered headline lists ("1Headline", "2Headline", ...) whose items are not sentences;
3. link lists: a run of three or more headline-like lines (short, no sentence ending) is
   navigation, except the lines whose words the article's own paragraphs use (its headline);
4. repeats: a paragraph equal to, or contained in, an earlier kept one (quotes, case and
   whitespace aside) is dropped; only whole paragraphs ever go, never a sentence inside one.

Scraped pages put one paragraph on a line, so a line is a paragraph, except that a hard-wrapped
line is joined to the next line when that line obviously continues it (starts in lower case).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

# A paragraph ends a sentence if its last character, before closing quotes or brackets, is one
# of these. A colon counts: "Authorities have taken action:" introduces the article's list.
_SENTENCE_END = re.compile(r"[.!?:…][\"'”’»)\]]*$")
_WORD = re.compile(r"\w+")
_BULLET = re.compile(r"^[•·▪●◦‣*\-–—]\s+")

_MAX_SHORT_BULLET_WORDS = 4
_MAX_HEADLINE_WORDS = 20
_MIN_LINK_LIST_LINES = 3
_MIN_NUMBERED_LIST_ITEMS = 3
# A headline-like line inside a link list stays if this share of its content words (at least
# _MIN_TOPIC_WORDS of them) occurs in the page's prose: the article's own headline does, other
# stories' headlines and menu labels do not.
_MIN_TOPIC_WORDS = 3
_MIN_TOPIC_SHARE = 0.6
# Near-duplicates: a later paragraph whose words are all in an earlier one, which it covers
# almost entirely (a caption printed twice with different quotes, say).
_MIN_NEAR_DUPLICATE_WORDS = 8
_MIN_NEAR_DUPLICATE_OVERLAP = 0.9
_WRAP_MIN_WORDS = 8
# Plain text wrapped at a fixed width: every line but the last within these lengths.
_WRAP_MIN_CHARS = 40
_WRAP_MAX_CHARS = 100

_IMAGE_FILE = re.compile(r"\S*\.(?:png|jpe?g|gif|svg|webp|ico|bmp)\b\S*", re.IGNORECASE)
_STANDALONE_MARKER = re.compile(
    r"(?:(?:advertisements?|advertisement - scroll to continue|sponsored(?: content)?"
    r"|related (?:articles?|stories|posts|news|content|links)|leave a (?:reply|comment)"
    r"|comments are closed|your email address will not be published"
    r"|required fields are marked|back to top(?: button)?|print(?: preview)?"
    r"|font size(?: up| down)?|share(?: this(?: article| story| page)?)?"
    r"|skip to (?:main )?content|continue reading|most (?:read|popular|viewed|shared)"
    r"|trending(?: now)?|top(?: \d+)?(?: \w+)? (?:stories|news|headlines)|latest news"
    r"|editor[’']?s picks)[\W_]*)+",
    re.IGNORECASE,
)
_INSERT_PREFIX = re.compile(
    r"^(?:also read|read also|read more|see also|related|recommended|you may also like"
    r"|don[’']?t miss|must read|more from [\w ]{1,30}?)\s*[:|–—-]",
    re.IGNORECASE,
)
_SHORT_PROMPT = re.compile(
    r"^(?:(?:sign|log)\s?in\b|login\b|subscribe (?:now|today|to)\b|share (?:on|via)\b)",
    re.IGNORECASE,
)
_MAX_PROMPT_WORDS = 10
_SHORTCODE = re.compile(
    r"\[(?:[a-z][\w-]*(?:\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))+\s*/?|/[a-z][\w-]*)\]",
    re.IGNORECASE,
)
_TAG_LIST = re.compile(r"\[\s*(?:'[^']*'|\"[^\"]*\")(?:\s*,\s*(?:'[^']*'|\"[^\"]*\"))*\s*\]")
_COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|^copyright\b|\ball rights reserved\b", re.IGNORECASE)
_MAX_FOOTER_WORDS = 20
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"^(?:tel|phone|fax|mobile)\b[\s.:]*[+(\d]", re.IGNORECASE)
# "Label : value" with a spaced colon is how page footers and info boxes print their fields.
_FIELD = re.compile(r"^[^:]{2,40}\s:\s+\S")
_MAX_CONTACT_WORDS = 12
_PIPE_MENU_SEPARATOR = re.compile(r"\s[|·•]\s")
_MIN_PIPE_MENU_ITEMS = 3
_MAX_PIPE_MENU_ITEM_WORDS = 3
# Publication metadata is kept even where it looks like a form field or a menu label.
_DATELINE = re.compile(
    r"^(?:posted|published|updated|last updated|first published)\b[^.!?]*\d", re.IGNORECASE
)
_BYLINE = re.compile(r"^by\s+\w", re.IGNORECASE)
_MAX_BYLINE_WORDS = 6
_NUMBERED_ITEM = re.compile(r"^(\d{1,2})(?:[.)]\s+|(?=[\[(\"'‘“A-Z]))")

# Function words say nothing about a topic; leaving them out keeps the topic test honest.
_FUNCTION_WORDS = """
the and for with from that this into over under after before about amid are was were has have
had not but its his her their our your you they them who what when where which why how all any
can will may out off per via than then too very also more most some such one two new
"""
_STOPWORDS = frozenset(_FUNCTION_WORDS.split())


def clean_text(raw: str) -> str:
    """The page's article text: boilerplate removed, paragraphs joined by a blank line."""
    paragraphs = _split_paragraphs(raw)
    # One pass can expose a new link list (a removed repeat sat between headline-like lines),
    # so clean to a fixpoint; every pass that changes anything removes paragraphs, so it ends.
    while True:
        cleaned = _clean_once(paragraphs)
        if cleaned == paragraphs:
            return "\n\n".join(cleaned)
        paragraphs = cleaned


def is_boilerplate_line(line: str) -> bool:
    """Whether a line is page furniture on its own, whatever surrounds it."""
    text = " ".join(line.split())
    if not text or _is_publication_metadata(text):
        return False
    words = _word_count(text)
    bullet = _BULLET.match(text)
    if bullet and _word_count(text[bullet.end() :]) <= _MAX_SHORT_BULLET_WORDS:
        return True
    return (
        (bool(text.split()) and all(_IMAGE_FILE.fullmatch(t) for t in text.split()))
        or bool(_STANDALONE_MARKER.fullmatch(text))
        or bool(_SHORTCODE.fullmatch(text))
        or bool(_TAG_LIST.fullmatch(text))
        or bool(_INSERT_PREFIX.match(text))
        or _is_pipe_menu(text)
        or (words <= _MAX_PROMPT_WORDS and bool(_SHORT_PROMPT.match(text)))
        or (words <= _MAX_FOOTER_WORDS and bool(_COPYRIGHT.search(text)))
        or (words <= _MAX_CONTACT_WORDS and _is_contact_or_field(text))
    )


def _clean_once(paragraphs: list[str]) -> list[str]:
    survivors = [p for p in paragraphs if not is_boilerplate_line(p)]
    survivors = _drop_numbered_lists(survivors)
    vocabulary = _content_vocabulary(p for p in survivors if not _is_headline_like(p))
    survivors = _drop_link_lists(survivors, vocabulary)
    return _drop_repeats(survivors)


def _split_paragraphs(text: str) -> list[str]:
    """Non-blank lines, whitespace collapsed, hard-wrapped continuations joined, NFC."""
    paragraphs: list[str] = []
    continues_block = False
    for raw_line in _unwrapped_lines(text):
        line = " ".join(raw_line.split())
        if not line:
            continues_block = False
            continue
        if continues_block and _continues(paragraphs[-1], line):
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        continues_block = True
    return [unicodedata.normalize("NFC", p) for p in paragraphs]


def _unwrapped_lines(text: str) -> list[str]:
    """The lines of ``text``, with blocks of hard-wrapped prose (a plain-text file wrapped at
    a fixed width, each line 40-100 characters, most not ending a sentence) joined into one
    line each, so the rules below see a paragraph, not a run of short lines."""
    lines: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text):
        group: list[str] = []
        for line in [" ".join(raw.split()) for raw in block.splitlines() if raw.strip()]:
            if is_boilerplate_line(line):  # an insert inside a block is never prose to join
                lines.extend(_joined_if_wrapped(group))
                lines.append(line)
                group = []
            else:
                group.append(line)
        lines.extend(_joined_if_wrapped(group))
        lines.append("")
    return lines


def _joined_if_wrapped(group: list[str]) -> list[str]:
    return [" ".join(group)] if _is_hard_wrapped(group) else group


def _is_hard_wrapped(lines: list[str]) -> bool:
    body = lines[:-1]
    if not body:
        return False
    if not all(_WRAP_MIN_CHARS <= len(line) <= _WRAP_MAX_CHARS for line in body):
        return False
    if any(_BULLET.match(line) or line[:1].isdigit() for line in lines):
        return False  # a list, not a wrapped paragraph
    open_ended = sum(1 for line in body if not _SENTENCE_END.search(line))
    return open_ended * 2 >= len(body)


def _continues(previous: str, line: str) -> bool:
    """Whether `line` is the wrapped rest of `previous`, not a paragraph of its own."""
    return (
        _word_count(previous) >= _WRAP_MIN_WORDS
        and not _SENTENCE_END.search(previous)
        and line[0].islower()
        and " " in line
    )


def _word_count(text: str) -> int:
    return len(text.split())


def _is_publication_metadata(text: str) -> bool:
    if _DATELINE.match(text):
        return True
    return bool(_BYLINE.match(text)) and _word_count(text) <= _MAX_BYLINE_WORDS


def _is_pipe_menu(text: str) -> bool:
    items = _PIPE_MENU_SEPARATOR.split(text)
    return len(items) >= _MIN_PIPE_MENU_ITEMS and all(
        _word_count(item) <= _MAX_PIPE_MENU_ITEM_WORDS for item in items
    )


def _is_contact_or_field(text: str) -> bool:
    return bool(_EMAIL.search(text) or _PHONE.match(text) or _FIELD.match(text))


def _is_headline_like(text: str) -> bool:
    """Short and not a sentence: a menu label, a link, a headline or a subhead."""
    return (
        not _is_publication_metadata(text)
        and not _SENTENCE_END.search(text)
        and _word_count(text) <= _MAX_HEADLINE_WORDS
    )


def _drop_numbered_lists(paragraphs: list[str]) -> list[str]:
    """Remove runs of consecutively numbered items that are headlines, not sentences."""
    kept: list[str] = []
    run: list[str] = []
    for paragraph in paragraphs:
        if _continues_numbering(run, paragraph):
            run.append(paragraph)
            continue
        kept.extend(_without_numbered_headlines(run))
        run = [paragraph]
    kept.extend(_without_numbered_headlines(run))
    return kept


def _continues_numbering(run: list[str], paragraph: str) -> bool:
    last = _item_number(run[-1]) if run else None
    return last is not None and _item_number(paragraph) == last + 1


def _without_numbered_headlines(run: list[str]) -> list[str]:
    sentences = sum(1 for item in run if _SENTENCE_END.search(item))
    is_headline_list = len(run) >= _MIN_NUMBERED_LIST_ITEMS and sentences * 2 < len(run)
    return [] if is_headline_list else run


def _item_number(paragraph: str) -> int | None:
    match = _NUMBERED_ITEM.match(paragraph)
    return int(match.group(1)) if match else None


def _content_stems(text: str) -> list[str]:
    """Crude stems (first five letters) of the words that carry a topic."""
    words = _WORD.findall(text.casefold())
    return [
        word[:5]
        for word in words
        if len(word) >= 3 and not word.isdigit() and word not in _STOPWORDS
    ]


def _content_vocabulary(paragraphs: Iterable[str]) -> frozenset[str]:
    return frozenset(stem for p in paragraphs for stem in _content_stems(p))


def _is_on_topic(text: str, vocabulary: frozenset[str]) -> bool:
    stems = _content_stems(text)
    if len(stems) < _MIN_TOPIC_WORDS:
        return False
    shared = sum(1 for stem in stems if stem in vocabulary)
    return shared >= _MIN_TOPIC_SHARE * len(stems)


def _drop_link_lists(paragraphs: list[str], vocabulary: frozenset[str]) -> list[str]:
    kept: list[str] = []
    for headline_like, group in itertools.groupby(paragraphs, key=_is_headline_like):
        run = list(group)
        if headline_like and len(run) >= _MIN_LINK_LIST_LINES:
            kept.extend(p for p in run if _is_on_topic(p, vocabulary))
        else:
            kept.extend(run)
    return kept


def _drop_repeats(paragraphs: list[str]) -> list[str]:
    """Keep the first of paragraphs that say the same thing, ignoring quotes, case, spacing."""
    kept: list[str] = []
    seen_words: list[frozenset[str]] = []
    seen_keys: set[tuple[str, ...]] = set()
    for paragraph in paragraphs:
        words = _WORD.findall(paragraph.casefold())
        key = tuple(words)
        if key in seen_keys or _repeats_earlier(frozenset(words), seen_words):
            continue
        kept.append(paragraph)
        seen_keys.add(key)
        seen_words.append(frozenset(words))
    return kept


def _repeats_earlier(words: frozenset[str], earlier: list[frozenset[str]]) -> bool:
    if len(words) < _MIN_NEAR_DUPLICATE_WORDS:
        return False
    return any(
        words <= previous and len(words) >= _MIN_NEAR_DUPLICATE_OVERLAP * len(previous)
        for previous in earlier
    )
