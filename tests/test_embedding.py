"""The embedding precision: bfloat16 stays close to float32, and another precision re-embeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.embedding import (
    Embedder,
    HashingEmbedder,
    load_embedder,
    precision_suffix,
    resolve_precision,
)
from qa.index_manifest import model_name_of, staleness
from qa.indexing import build_index
from qa.settings import Settings


def test_an_explicit_precision_is_kept_and_auto_picks_one() -> None:
    assert resolve_precision("float32") == "float32"
    assert resolve_precision("bfloat16") == "bfloat16"
    assert resolve_precision("auto") in {"float32", "bfloat16"}


def test_float32_keeps_the_model_name_of_indexes_built_before_the_choice() -> None:
    assert precision_suffix("float32") == ""
    assert precision_suffix("bfloat16") != ""


def test_another_precision_makes_the_index_stale(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The harbour tower is 120 metres tall. It opened in 1999.\n")
    model = tmp_path / "models" / "hashing-64"
    model.mkdir(parents=True)
    settings = Settings(
        corpus_dir=corpus, index_dir=tmp_path / "index", model_path=str(model)
    ).model_copy(update={"embed_precision": "float32"})
    build_index(settings, lambda: HashingEmbedder(64), progress=False)
    assert staleness(settings, model_name_of(settings)) == ""

    changed = settings.model_copy(update={"embed_precision": "bfloat16"})
    assert staleness(changed, model_name_of(changed)).startswith("the model changed")


@pytest.mark.model
def test_bfloat16_vectors_stay_close_to_float32_and_rank_alike() -> None:
    path = Settings().resolved_model_path()
    full, half = load_embedder(path, precision="float32"), load_embedder(path, precision="bfloat16")
    documents = [
        "Safeguard Defenders is a human rights NGO based in Madrid.",
        "The RCMP is investigating Chinese-run police stations in Canada.",
        "Two men were charged in April 2023 with acting as agents of China.",
        "Prato, near Florence, hosts one of the stations.",
    ] * 2  # more than a question's few texts: the batch path, not the one-thread one
    questions = ["Where is Safeguard Defenders based?", "Which city is Prato near?"]
    a, b = full.encode(documents), half.encode(documents)
    assert b.dtype == np.float32
    assert np.linalg.norm(b, axis=1) == pytest.approx(np.ones(len(documents)), abs=1e-5)
    assert float((a * b).sum(axis=1).min()) > 0.999
    for question in questions:
        assert np.argmax(full.encode([question]) @ a.T) == np.argmax(half.encode([question]) @ b.T)


@pytest.mark.model
def test_a_question_embedded_alone_gets_the_vector_a_batch_gives_it(
    model_embedder: Embedder,
) -> None:
    # One text goes through the traced graph, a batch through sentence-transformers.
    questions = [
        "Why?",
        "Which Spanish cities had a station?",
        "Which newspaper reported that the police in Canada investigated two sites in Toronto "
        "and one in Vancouver after a report by a human rights group based in Madrid?",
        " ".join(["station"] * 400),  # past the model's 256 tokens: cut like a batch's
    ]
    batch = model_embedder.encode(questions + ["a filler text"] * 4)
    for question, expected in zip(questions, batch, strict=False):
        alone = model_embedder.encode([question])
        assert alone.shape == (1, model_embedder.dimensions) and alone.dtype == np.float32
        assert float(alone[0] @ expected) > 0.999
    assert getattr(model_embedder, "_question_graph", None) is not None  # the graph answered


@pytest.mark.model
def test_a_model_the_graph_does_not_fit_still_embeds_questions() -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    from qa.embedding import SentenceTransformerEmbedder

    path = Settings().resolved_model_path()
    embedder = SentenceTransformerEmbedder(path, precision="float32")
    transformer = Transformer(path)
    # The same transformer pooled on its first token: not the mean the graph computes.
    embedder._model = SentenceTransformer(
        modules=[transformer, Pooling(transformer.get_embedding_dimension(), "cls")]
    )
    texts = ["Which Spanish cities had a station?", "Who founded the group?"]
    batch = embedder.encode(texts + texts)
    assert float(embedder.encode([texts[0]])[0] @ batch[0]) > 0.9999
    assert embedder._question_graph is None
