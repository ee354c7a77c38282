"""The service end to end on documents it was never tuned or trained on: the reader's held-out
dev split (SQuADShifts' dev articles, products and comments, never trained on) as a corpus
folder of one text file per paragraph, indexed by ``qa index``'s own code and asked through
``Answerer.ask`` as a user would ask.

Half of the questions asked are answerable. The other half are dev questions whose paragraph
was left out of the folder, kept only where no paragraph in it mentions one of their answers:
the documents do not answer them, and the right reply is to abstain. The 107 gold questions of
``eval/`` are a few pages of one news story; this is hundreds of questions over hundreds of
paragraphs of three kinds of text, so a change to chunking or reading that moves a handful of
gold answers can be judged here on more than that handful.

``.venv/bin/python -m bench.end_to_end [--questions 300] [--data ../shared/datasets]`` prints
the figures and writes them to ``bench/results/end_to_end.json``. Settings come from the
environment as for the service (``QA_CHUNK_OVERLAP_SENTENCES=0`` and the like).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.training.examples import Example

SOURCES = ("wiki", "amazon", "reddit")
DEV_SHARE = 0.1  # as the reader's training holds out


@dataclass(frozen=True)
class EndToEndFigures:
    answerable: int
    unanswerable: int
    answerable_f1: float  # an abstention scores 0
    answerable_exact_match: float
    false_abstention_rate: float
    unanswerable_accuracy: float  # abstained where the documents do not answer
    overall_f1: float  # answerable F1 and unanswerable accuracy over all questions
    answer_in_top_5: float  # an answer's text in one of the first five passages (answerable)
    build_seconds: float
    ask_p50_ms: float


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dev_questions(data_dir: Path) -> list[Example]:
    from qa.training.examples import read_squadshifts
    from qa.training.split import in_dev

    examples: list[Example] = []
    for source in SOURCES:
        examples += [e for e in read_squadshifts(data_dir, source) if in_dev(e.group, DEV_SHARE)]
    return examples


def choose(examples: Sequence[Example], size: int) -> tuple[dict[str, str], list[Example]]:
    """The corpus (file stem -> paragraph) and the questions: ``size`` answerable ones, and as
    many whose paragraph is left out, chosen by hash so every run asks the same."""
    from qa.training.negatives import mentions_an_answer

    contexts = sorted({e.context for e in examples}, key=_hash)
    left_out = set(contexts[: len(contexts) // 4])
    corpus = {f"p{_hash(c)[:12]}": c for c in contexts if c not in left_out}
    everything = "\n".join(corpus.values())  # an answer mentioned in any paragraph kept
    ordered = sorted(examples, key=lambda e: _hash(e.id))
    answerable = [e for e in ordered if e.context not in left_out][:size]
    unanswerable = [
        e for e in ordered if e.context in left_out and not mentions_an_answer(everything, e)
    ][:size]
    return corpus, answerable + [_without_answers(e) for e in unanswerable]


def _without_answers(example: Example) -> Example:
    from dataclasses import replace

    return replace(example, answers=(), kind="not in the folder")


def run(data_dir: Path, scratch: Path, size: int) -> EndToEndFigures:
    from qa.answering import Answerer
    from qa.embedding import load_embedder
    from qa.evaluation.metrics import exact_match, percentile, token_f1
    from qa.indexing import build_index
    from qa.settings import Settings

    corpus, questions = choose(dev_questions(data_dir), size)
    folder = scratch / "corpus"
    folder.mkdir(parents=True)
    for stem, text in corpus.items():
        (folder / f"{stem}.txt").write_text(text.strip() + "\n", encoding="utf-8")
    settings = Settings(corpus_dir=folder, index_dir=scratch / "index")
    embedder = load_embedder(
        settings.resolved_model_path(), settings.embed_batch_size, settings.embed_precision
    )
    report = build_index(settings, lambda: embedder, force=True, progress=False)
    answerer = Answerer(settings, embedder=embedder)
    answerer.warm_up()
    f1: list[float] = []
    exact: list[float] = []
    abstained_answerable = in_top = abstained_unanswerable = 0
    seconds: list[float] = []
    for example in questions:
        started = time.perf_counter()
        response = answerer.ask(example.question)
        seconds.append(time.perf_counter() - started)
        if not example.answerable:
            abstained_unanswerable += response.abstained
            continue
        aliases = [a.text for a in example.answers]
        said = response.answers[0].text if response.answers else ""
        f1.append(token_f1(said, aliases) if said else 0.0)
        exact.append(exact_match(said, aliases) if said else 0.0)
        abstained_answerable += response.abstained
        in_top += any(a in p.text for p in response.passages[:5] for a in aliases)
    answerable = len(f1)
    unanswerable = len(questions) - answerable
    return EndToEndFigures(
        answerable=answerable,
        unanswerable=unanswerable,
        answerable_f1=round(sum(f1) / max(1, answerable), 4),
        answerable_exact_match=round(sum(exact) / max(1, answerable), 4),
        false_abstention_rate=round(abstained_answerable / max(1, answerable), 4),
        unanswerable_accuracy=round(abstained_unanswerable / max(1, unanswerable), 4),
        overall_f1=round((sum(f1) + abstained_unanswerable) / max(1, len(questions)), 4),
        answer_in_top_5=round(in_top / max(1, answerable), 4),
        build_seconds=round(report.seconds, 2),
        ask_p50_ms=round(percentile(seconds, 50) * 1000, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.end_to_end", description=__doc__)
    parser.add_argument("--data", default="../shared/datasets", help="the datasets folder")
    parser.add_argument("--questions", type=int, default=300, help="answerable (and as many not)")
    parser.add_argument("--out", default="bench/results/end_to_end.json")
    args = parser.parse_args(argv)
    data_dir = Path(args.data)
    if not (data_dir / "squadshifts").is_dir():
        print(f"end_to_end: no squadshifts/ in {data_dir} (use --data DIR)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="qa-end-to-end-") as scratch:
        figures = run(data_dir, Path(scratch), args.questions)
    for key, value in asdict(figures).items():
        print(f"{key:24} {value}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
