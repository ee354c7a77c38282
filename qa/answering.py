"""The answering pipeline: question -> retrieval -> reader -> cited answers (or an abstention).

``Answerer(settings)`` loads the model and the live index once; ``ask`` is then called per
question by the CLI, the HTTP API, the chat endpoints and the evaluation alike.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from qa.answers import Answer
from qa.build_lease import Leases
from qa.conversation import Turn, resolve_question
from qa.embedding import Embedder, load_embedder
from qa.index_backends import open_search
from qa.index_manifest import (
    CASED_WORDS_FILE,
    MANIFEST_FILE,
    STORE_FILE,
    IndexMissingError,
    Manifest,
    current_build_dir,
    verified_manifest,
)
from qa.integrity import verify_build
from qa.places import warm as warm_places
from qa.questions import analyse_question
from qa.reader import Reader
from qa.reader_model import SpanModel
from qa.retrieval import Passage, Retriever
from qa.settings import Settings
from qa.store import Store
from qa.terms import has_letter_or_digit
from qa.truecase import load_cased_forms, restore_case

ABSTAIN_MESSAGE = "I could not find that in the documents."

_JOINERS = "\u200c\u200d"


def _visible(character: str) -> bool:
    """Not a control or format character (whitespace and the zero-width joiners excepted)."""
    if character.isspace() or character in _JOINERS:
        return True
    return unicodedata.category(character) not in {"Cc", "Cf"}


# The reader looks further than the passages shown: list answers gather across documents.
READER_PASSAGES = 8
READER_PASSAGES_FOR_LISTS = 24


class InvalidQuestionError(ValueError):
    """The question cannot be asked as given (empty, too long, no letter or digit in it)."""


def _whole_number(value: object) -> object:
    """5.0 is the integer 5, as JSON Schema counts; "5" and true stay what they are."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer as the API schema's "integer" means it: 5 or 5.0, never "5" (which lax parsing
# would take) nor true.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class AskRequest(BaseModel):
    # Strict: the types the schema says, nothing coerced into them.
    model_config = ConfigDict(strict=True)

    question: str = Field(description="A question in plain English")
    top_k: WholeNumber = Field(
        default=5, ge=1, description="How many passages to return (at most the server's max_top_k)"
    )


class AskResponse(BaseModel):
    """What `POST /ask` and `qa ask --json` return."""

    question: str
    resolved_question: str = Field(description="The standalone question actually answered")
    answers: list[Answer]
    abstained: bool
    message: str = ""
    passages: list[Passage] = Field(default_factory=list)


class PageView(BaseModel):
    """Where one page lies in a document's text: ``text[start:end]``."""

    page: int = Field(ge=1, description="1-based page number")
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class HeadingView(BaseModel):
    """A heading of a document: ``text[start:end]`` is its title; level 1 is the title's."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    level: int = Field(ge=1)


class DocumentView(BaseModel):
    """A document as the API shows it: ``text`` is what citation offsets point into."""

    doc_id: str
    title: str
    source: str
    publisher: str
    published: str
    text: str
    pages: list[PageView] = Field(
        default_factory=list,
        description="Page boundaries in text, for paged documents (PDF); empty for others",
    )
    headings: list[HeadingView] = Field(
        default_factory=list,
        description="Where the headings lie in text (Markdown, HTML, DOCX), to draw them as such",
    )


class _LoadedBuild:
    """Everything one published build needs at question time."""

    def __init__(self, folder: Path, settings: Settings, reader_model: SpanModel) -> None:
        self.folder = folder
        # Verified before anything is read from it: a damaged build is never switched to.
        self.manifest: Manifest = verified_manifest(folder)
        self.store = Store(folder / STORE_FILE)
        self.search = open_search(folder, self.manifest, settings)
        self.retriever = Retriever(
            self.store,
            self.search.vectors,
            self.search.lexical,
            settings.retrieval_candidates,
            settings.fusion_dense_weight,
        )
        self.cased_words = load_cased_forms(folder / CASED_WORDS_FILE)
        min_score = settings.min_answer_score
        if min_score is None:
            min_score = reader_model.calibration.threshold_probability
        self.reader = Reader(
            self.store,
            reader_model,
            min_score,
            settings.max_list_items,
            settings.reader_focus_words,
        )

    def close(self) -> None:
        """Let go of what the build holds outside this process's memory (a Milvus client)."""
        self.search.close()


def validated_question(question: str, max_chars: int) -> str:
    """The question as it will be answered, or ``InvalidQuestionError`` saying what is wrong.

    Needs no model, so the CLI checks a question before it loads one.
    """
    # The limit counts the question as sent, as the API schema's maxLength does.
    if len(question) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long; the limit is {max_chars}"
        )
    # Control and format characters (NUL, zero-width spaces, bidi marks) are no part of a
    # question; the joiners Persian and Indic scripts spell with stay.
    text = " ".join("".join(c for c in question if _visible(c)).split())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate from a JSON "\ud800" escape
        raise InvalidQuestionError("the question is not valid Unicode text") from error
    if not text:
        raise InvalidQuestionError("the question is empty: ask something about the documents")
    if not has_letter_or_digit(text):
        # Punctuation or emoji alone asks nothing; answering it would quote noise.
        raise InvalidQuestionError(
            "the question has no letters or digits: ask something about the documents"
        )
    return text


class Answerer:
    """Answers questions about the live index; build once, call ``ask`` many times."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        reader_model: SpanModel | None = None,
    ) -> None:
        self.settings = settings
        folder = current_build_dir(settings.index_dir)
        if folder is None:
            raise IndexMissingError(f"no index in {settings.index_dir}: run `qa index` first")
        self._reader_model = reader_model or SpanModel.load(settings.resolved_reader_path())
        self._builds = Leases(
            _LoadedBuild(folder, settings, self._reader_model), _LoadedBuild.close
        )
        self._embedder = embedder or load_embedder(
            settings.resolved_model_path(), settings.embed_batch_size, settings.embed_precision
        )
        self._reload_lock = threading.Lock()
        slots = settings.max_concurrent_answers or os.cpu_count() or 1
        self._answer_slots = threading.BoundedSemaphore(slots)
        # One embedding thread per answer slot: the question is embedded there while this
        # thread reads it (the model lets go of the GIL for the forward pass).
        self._embedding_threads = ThreadPoolExecutor(slots, thread_name_prefix="qa-embed")
        warm_places()

    def warm_up(self) -> None:
        """Load now what the first question would wait for: spaCy's question tagger, the
        embedder's traced graph for single texts and the reader's first pass (a second or two)."""
        question = "Which cities had a station?"
        embedding = self._embedding_threads.submit(self._embedder.encode, [question])
        analyse_question(question)
        self._reader_model.read(question, ["Stations were found in three cities."])
        embedding.result()

    @property
    def _build(self) -> _LoadedBuild:
        return self._builds.current

    @property
    def manifest(self) -> Manifest:
        return self._build.manifest

    @property
    def embedder(self) -> Embedder:
        """The embedder questions are embedded with: new documents must be embedded alike."""
        return self._embedder

    def ask(self, question: str, top_k: int = 5, history: Sequence[Turn] = ()) -> AskResponse:
        """Answer ``question`` (a follow-up of ``history`` if given) from the documents."""
        question = self._validated(question)
        top_k = max(1, min(top_k, self.settings.max_top_k))
        # Waiters are woken in arrival order; one consistent build for the whole question.
        with self._answer_slots, self._builds.lease() as build:
            return self._answer(build, question, top_k, history)

    def _answer(
        self, build: _LoadedBuild, question: str, top_k: int, history: Sequence[Turn]
    ) -> AskResponse:
        # "who is laura harth": the corpus's capitals back, so names read as names.
        cased = restore_case(question, build.cased_words)
        resolved = resolve_question(cased, history)
        if len(resolved) > self.settings.max_question_chars:
            resolved = cased  # many pronouns, long names: the resolution is no question
        embedding = self._embedding_threads.submit(self._embedder.encode, [resolved])
        # While the question is embedded: what kind of answer it wants, and its BM25 ranking.
        analysis = analyse_question(resolved)
        wanted = READER_PASSAGES_FOR_LISTS if analysis.is_list else READER_PASSAGES
        lexical = build.retriever.lexical_ranking(resolved, max(top_k, wanted))
        query_vector = embedding.result()[0]
        passages = build.retriever.search(resolved, query_vector, max(top_k, wanted), lexical)
        # The reader sees the same passages whatever top_k asks to be shown.
        answers = build.reader.read(analysis, passages[:wanted])
        return AskResponse(
            question=question,
            resolved_question=resolved,
            answers=answers,
            abstained=not answers,
            message="" if answers else ABSTAIN_MESSAGE,
            passages=passages[:top_k],
        )

    def _validated(self, question: str) -> str:
        return validated_question(question, self.settings.max_question_chars)

    def document(self, doc_id: str) -> DocumentView | None:
        with self._builds.lease() as build:
            return _document_view(build.store, doc_id)

    def count_tokens(self, text: str) -> int:
        """``text`` in the reader model's tokens: what OpenAI-style usage figures count."""
        return self._reader_model.count_tokens(text)

    def titles(self) -> dict[str, str]:
        """Every document's title by id, without reading the texts."""
        with self._builds.lease() as build:
            return dict(build.store.titles())

    def probe(self) -> None:
        """A cheap real query path through the live build, for readiness: its files still match
        their checksums (one ``stat`` each while unchanged), and the store, the vectors and the
        lexical index each answer a tiny search. Raises what a question would meet."""
        with self._builds.lease() as build:
            verify_build(build.folder, build.manifest.checksums, frozenset({MANIFEST_FILE}))
            build.retriever.probe(build.manifest.dimensions)

    def reload_if_changed(self) -> bool:
        """Switch to a newer published build, if `qa index` made one; True when it did."""
        folder = current_build_dir(self.settings.index_dir)
        if folder is None or folder == self._build.folder:
            return False
        with self._reload_lock:
            if folder != self._build.folder:
                self._builds.replace(_LoadedBuild(folder, self.settings, self._reader_model))
                return True
        return False


def _document_view(store: Store, doc_id: str) -> DocumentView | None:
    stored = store.document(doc_id)
    if stored is None:
        return None
    return DocumentView(
        doc_id=stored.doc_id,
        title=stored.title,
        source=stored.source,
        publisher=stored.publisher,
        published=stored.published,
        text=stored.text,
        pages=[PageView(page=p.number, start=p.start, end=p.end) for p in store.pages(doc_id)],
        headings=[
            HeadingView(start=h.start, end=h.end, level=max(1, h.level))
            for h in store.headings(doc_id)
        ],
    )
