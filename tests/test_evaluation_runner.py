"""The `qa eval` runner: scoring hand-made responses, the baseline gate, the report, no model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from qa.answering import AskResponse
from qa.answers import Answer, Citation
from qa.conversation import Turn
from qa.evaluation.baseline_gate import baseline_figures, check_against_baseline
from qa.evaluation.figures import Figures, calibrate, summarise
from qa.evaluation.gold import GoldItem
from qa.evaluation.plain_baseline import baseline_response, simple_sentences
from qa.evaluation.rendering import render_markdown, render_summary
from qa.evaluation.report import build_report
from qa.evaluation.runner import ask_gold, evaluate, run_cli
from qa.evaluation.scoring import score_item
from qa.retrieval import Passage
from qa.settings import Settings

GOLD_DOC, OTHER_DOC = "000_gold", "001_other"

WHO = GoldItem(
    id="w1",
    question="Who is the campaign director of Safeguard Defenders?",
    category="who",
    answer_type="person",
    answerable=True,
    answers=("Laura Harth", "Harth"),
    doc_ids=(GOLD_DOC,),
    evidence=("Laura Harth, campaign director at the NGO, said so.",),
)
LIST = GoldItem(
    id="l1",
    question="Which countries' officers will stay?",
    category="list",
    answer_type="country",
    answerable=True,
    items=(("Australia",), ("New Zealand",), ("Japan",)),
    doc_ids=(GOLD_DOC,),
    evidence=("Officers from Australia, New Zealand and Japan will stay.",),
)
NONE = GoldItem(
    id="u1",
    question="What is the capital of Mars?",
    category="unanswerable",
    answer_type="city",
    answerable=False,
)
FOLLOWUP = GoldItem(
    id="f1",
    question="Which committee did she address?",
    category="followup",
    answer_type="organisation",
    answerable=True,
    answers=("Canadian House of Commons committee",),
    doc_ids=(GOLD_DOC,),
    evidence=("Harth told a Canadian House of Commons committee in March 2023.",),
    history=("Who is the campaign director of Safeguard Defenders?",),
)


def _answer(
    text: str, quote: str | None = None, doc_id: str = GOLD_DOC, score: float = 0.9
) -> Answer:
    quote = quote if quote is not None else f"They said {text} was there."
    start = quote.find(text)
    return Answer(
        text=text,
        score=score,
        citations=[
            Citation(
                doc_id=doc_id,
                title="t",
                start=max(start, 0),
                end=max(start, 0) + len(text),
                quote=quote,
                quote_start=0,
                quote_end=len(quote),
            )
        ],
    )


def _passage(text: str, doc_id: str = GOLD_DOC, chunk_id: int = 0, start: int = 0) -> Passage:
    return Passage(
        doc_id=doc_id,
        title="t",
        chunk_id=chunk_id,
        start=start,
        end=start + len(text),
        text=text,
        score=0.8,
    )


def _response(
    item: GoldItem, answers: Sequence[Answer] = (), passages: Sequence[Passage] = ()
) -> AskResponse:
    return AskResponse(
        question=item.question,
        resolved_question=item.question,
        answers=list(answers),
        abstained=not answers,
        message="" if answers else "I could not find that in the documents.",
        passages=list(passages),
    )


# ---------------------------------------------------------------- scoring one item


def test_a_right_answer_scores_full_marks_with_a_good_citation() -> None:
    result = score_item(WHO, _response(WHO, [_answer("Laura Harth")]))
    assert (result.exact_match, result.f1, result.citation) == (1.0, 1.0, 1.0)
    assert result.correct and not result.abstained and result.score == 0.9


def test_a_partial_answer_gets_token_f1_and_counts_as_right_from_half() -> None:
    # "Laura" against "Laura Harth": precision 1, recall 1/2, F1 2/3; against "Harth": 0.
    result = score_item(WHO, _response(WHO, [_answer("Laura")]))
    assert result.exact_match == 0.0
    assert result.f1 == pytest.approx(2 / 3)
    assert result.correct


def test_a_wrong_answer_scores_nothing_and_its_citation_is_judged_on_its_own() -> None:
    result = score_item(WHO, _response(WHO, [_answer("Christopher Wray")]))
    assert (result.exact_match, result.f1, result.correct) == (0.0, 0.0, False)
    assert result.citation == 1.0  # quoted, from a gold document: the citation itself is sound


def test_a_citation_from_another_document_or_not_quoting_the_answer_is_wrong() -> None:
    elsewhere = score_item(WHO, _response(WHO, [_answer("Laura Harth", doc_id=OTHER_DOC)]))
    unquoted = score_item(WHO, _response(WHO, [_answer("Laura Harth", quote="Nothing here.")]))
    assert elsewhere.citation == 0.0 and unquoted.citation == 0.0


def test_an_abstention_on_an_answerable_question_scores_zero_and_has_no_citation() -> None:
    result = score_item(WHO, _response(WHO))
    assert result.abstained and not result.correct
    assert (result.exact_match, result.f1, result.citation, result.score) == (0.0, 0.0, None, None)


def test_a_partial_list_gets_hand_computed_precision_recall_and_citations() -> None:
    answers = [_answer("Australia"), _answer("Canada")]
    result = score_item(LIST, _response(LIST, answers))
    # 1 of 2 predictions right, 1 of 3 items found: P 1/2, R 1/3, F1 2PR/(P+R) = 0.4.
    assert result.list_precision == pytest.approx(0.5)
    assert result.list_recall == pytest.approx(1 / 3)
    assert result.list_f1 == pytest.approx(0.4)
    assert result.citation == pytest.approx(0.5)  # only the right item counts
    assert not result.correct
    assert result.exact_match is None and result.f1 is None


def test_unanswerable_questions_are_right_only_when_abstained() -> None:
    assert score_item(NONE, _response(NONE)).correct
    answered = score_item(NONE, _response(NONE, [_answer("Olympus Mons")]))
    assert not answered.correct and answered.citation is None


def test_retrieval_rank_needs_a_gold_document_holding_evidence_or_an_alias() -> None:
    passages = [
        _passage("Laura Harth spoke.", doc_id=OTHER_DOC, chunk_id=1),  # wrong document
        _passage("Nothing about her here.", chunk_id=2),  # right document, no answer
        _passage("Then Harth left.", chunk_id=3),  # an alias in a gold document
    ]
    assert score_item(WHO, _response(WHO, passages=passages)).relevant_rank == 3
    assert score_item(WHO, _response(WHO, passages=passages[:2])).relevant_rank is None


# ---------------------------------------------------------------- figures


def test_summarise_gives_the_hand_computed_headline() -> None:
    relevant = [_passage("Laura Harth said so.")]
    results = [
        score_item(WHO, _response(WHO, [_answer("Laura Harth")], relevant), 10.0),  # right
        score_item(WHO, _response(WHO, passages=[_passage("x"), *relevant]), 20.0),  # abstained
        score_item(LIST, _response(LIST, [_answer("Australia"), _answer("Canada")]), 30.0),
        score_item(NONE, _response(NONE), 40.0),  # rightly abstained
        score_item(NONE, _response(NONE, [_answer("Olympus Mons")]), 50.0),  # wrongly answered
    ]
    figures = summarise(results)
    assert figures.questions == 5
    assert figures.exact_match == pytest.approx(0.5)  # two single answerable, one right
    assert figures.f1 == pytest.approx(0.5)
    assert figures.list_f1 == pytest.approx(0.4)
    assert figures.citation_accuracy == pytest.approx((1.0 + 0.5) / 2)  # the two answered
    assert figures.abstention_accuracy == pytest.approx(0.5)
    assert figures.false_abstention_rate == pytest.approx(1 / 3)
    assert figures.followup_accuracy is None  # no follow-ups here
    assert figures.accuracy == pytest.approx(2 / 5)
    assert figures.recall_at_1 == pytest.approx(1 / 3)  # the list's passages are missing
    assert figures.recall_at_5 == pytest.approx(2 / 3)
    assert figures.mrr == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert figures.latency_p50_ms == pytest.approx(30.0)
    assert figures.latency_p95_ms == pytest.approx(48.0)


def test_follow_up_accuracy_uses_the_right_rule() -> None:
    right = score_item(FOLLOWUP, _response(FOLLOWUP, [_answer("House of Commons committee")]))
    wrong = score_item(FOLLOWUP, _response(FOLLOWUP, [_answer("March 2023")]))
    # 4 of 5 words against the alias: P 1, R 4/5, F1 8/9 >= 0.5.
    assert right.correct and not wrong.correct
    assert summarise([right, wrong]).followup_accuracy == pytest.approx(0.5)


def test_calibration_counts_answers_per_score_band() -> None:
    results = [
        score_item(WHO, _response(WHO, [_answer("Laura Harth", score=0.1)])),
        score_item(WHO, _response(WHO, [_answer("Wray", score=0.85)])),
        score_item(WHO, _response(WHO, [_answer("Harth", score=1.0)])),
        score_item(WHO, _response(WHO)),  # abstained: in no band
    ]
    bands = calibrate(results)
    assert [(b.answered, b.right) for b in bands] == [(1, 1), (0, 0), (0, 0), (0, 0), (2, 1)]
    assert bands[4].share_right == pytest.approx(0.5) and bands[1].share_right is None


# ---------------------------------------------------------------- the plain baseline


def test_simple_sentences_cut_at_sentence_ends_and_lines() -> None:
    text = 'He left. "She stayed." Then\nA new line here'
    assert [text[s:e] for s, e in simple_sentences(text)] == [
        "He left.",
        '"She stayed."',
        "Then",
        "A new line here",
    ]


def test_the_baseline_answers_the_top_passage_sentence_most_like_the_question() -> None:
    top = _passage(
        "The NGO met in Rome. Laura Harth is the campaign director of Safeguard Defenders.",
        start=100,
    )
    response = baseline_response(_response(WHO, passages=[top, _passage("Other.", chunk_id=9)]))
    assert not response.abstained
    (answer,) = response.answers
    assert answer.text == "Laura Harth is the campaign director of Safeguard Defenders."
    citation = answer.citations[0]
    assert top.text[citation.start - top.start : citation.end - top.start] == answer.text
    result = score_item(WHO, response)
    assert result.exact_match == 0.0
    assert result.f1 is not None and 0.0 < result.f1 < 0.5  # a whole sentence is no span
    assert result.citation == 1.0


def test_the_baseline_never_abstains_while_there_is_a_passage() -> None:
    response = baseline_response(_response(NONE, passages=[_passage("Mars is red.")]))
    assert not response.abstained and response.answers[0].text == "Mars is red."


# ---------------------------------------------------------------- the runner


class FakeAnswerer:
    """Answers from a table, echoing the last answer into the resolved question of follow-ups."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int, list[Turn]]] = []

    def ask(self, question: str, top_k: int = 5, history: Sequence[Turn] = ()) -> AskResponse:
        self.calls.append((question, top_k, list(history)))
        resolved = question
        if history and history[-1].answers:
            resolved = f"{question} [{history[-1].answers[0]}]"
        texts = self.table.get(question, [])
        return AskResponse(
            question=question,
            resolved_question=resolved,
            answers=[_answer(text) for text in texts],
            abstained=not texts,
            passages=[_passage(f"{text} was there.", chunk_id=i) for i, text in enumerate(texts)],
        )


def test_a_follow_up_is_asked_after_its_history_with_turns_built_from_the_responses() -> None:
    fake = FakeAnswerer(
        {WHO.question: ["Laura Harth"], FOLLOWUP.question: ["Canadian House of Commons committee"]}
    )
    response, _ = ask_gold(fake, FOLLOWUP)
    assert [call[0] for call in fake.calls] == [WHO.question, FOLLOWUP.question]
    assert fake.calls[0][2] == []
    assert fake.calls[1][2] == [
        Turn(question=WHO.question, resolved_question=WHO.question, answers=["Laura Harth"])
    ]
    assert all(call[1] == 10 for call in fake.calls)  # top_k 10 for recall@10
    assert response.resolved_question == f"{FOLLOWUP.question} [Laura Harth]"


def test_evaluate_times_only_the_scored_question() -> None:
    ticks = iter([0.0, 0.25, 1.0, 1.5])
    fake = FakeAnswerer({WHO.question: ["Laura Harth"]})
    report = evaluate(fake, [WHO, FOLLOWUP], clock=lambda: next(ticks))
    assert [item.latency_ms for item in report.items] == [250.0, 500.0]


def _figures(**changes: float) -> Figures:
    base: dict[str, float] = {name: 0.5 for name in Figures.model_fields}
    base.update({"questions": 10, "false_abstention_rate": 0.1, **changes})
    return Figures(**base)  # type: ignore[arg-type]


def test_check_fails_when_a_figure_drops_beyond_the_tolerance() -> None:
    saved = baseline_figures(_figures())
    assert check_against_baseline(_figures(), saved) == []
    assert check_against_baseline(_figures(exact_match=0.48), saved) == []  # within 0.02
    (fell,) = check_against_baseline(_figures(exact_match=0.47), saved)
    assert fell.figure == "exact_match" and "exact_match fell" in fell.describe()


def test_check_treats_a_higher_false_abstention_rate_as_worse() -> None:
    saved = baseline_figures(_figures())
    assert check_against_baseline(_figures(false_abstention_rate=0.0), saved) == []
    (fell,) = check_against_baseline(_figures(false_abstention_rate=0.15), saved)
    assert fell.figure == "false_abstention_rate"


def test_check_ignores_latency_and_uses_the_baselines_tolerance() -> None:
    saved = {**baseline_figures(_figures()), "tolerance": 0.1}
    slow = _figures(latency_p50_ms=1e6, latency_p95_ms=1e6, f1=0.41)
    assert check_against_baseline(slow, saved) == []


# ---------------------------------------------------------------- report and `qa eval`


def _gold_file(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(item.model_dump_json() for item in (WHO, LIST, NONE, FOLLOWUP)))
    return path


def test_report_shows_the_headline_table_targets_and_every_failure() -> None:
    fake = FakeAnswerer({WHO.question: ["Laura Harth"], LIST.question: ["Australia", "Canada"]})
    report = evaluate(fake, [WHO, LIST, NONE, FOLLOWUP])
    markdown = render_markdown(report)
    assert "| Figure | Reader | Baseline | Target | Reader meets target |" in markdown
    # Exact match over the two single answers: "Laura Harth" right, the follow-up abstained.
    assert "| Exact match | 0.500 | 0.000 | ≥ 0.75 | not met |" in markdown
    assert "| Abstention accuracy | 1.000 | 1.000 | ≥ 0.90 | met |" in markdown  # no passages
    assert "| False-abstention rate |" in markdown and "≤ 0.10" in markdown
    failures = markdown.split("## Failed questions", 1)[1]
    assert "(2 of 4)" in failures
    assert "| l1 | list |" in failures and "Australia; Canada" in failures
    assert "| f1 | followup |" in failures and "(abstained)" in failures
    assert "| w1 |" not in failures
    assert "Exact match" in render_summary(report)


def test_build_report_needs_one_response_per_item() -> None:
    with pytest.raises(ValueError, match="one response"):
        build_report([WHO], [], [])


def test_run_cli_writes_reports_and_baseline_then_gates_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold, out, baseline = _gold_file(tmp_path), tmp_path / "out", tmp_path / "baseline.json"
    good = FakeAnswerer(
        {WHO.question: ["Laura Harth"], FOLLOWUP.question: ["Canadian House of Commons committee"]}
    )
    status = run_cli(
        Settings(), gold, out, baseline_path=baseline, write_baseline=True, answerer=good
    )
    assert status == 0
    assert (out / "report.md").exists()
    report = json.loads((out / "report.json").read_text())
    assert report["reader"]["exact_match"] == 1.0 and len(report["items"]) == 4
    saved = json.loads(baseline.read_text())
    assert saved["tolerance"] == 0.02 and saved["exact_match"] == 1.0

    assert run_cli(Settings(), gold, out, check=True, baseline_path=baseline, answerer=good) == 0
    worse = FakeAnswerer({WHO.question: ["Christopher Wray"]})
    capsys.readouterr()
    assert run_cli(Settings(), gold, out, check=True, baseline_path=baseline, answerer=worse) == 1
    assert "exact_match fell: 1.000 -> 0.000" in capsys.readouterr().err


def test_run_cli_check_without_a_baseline_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--write-baseline"):
        run_cli(
            Settings(),
            _gold_file(tmp_path),
            tmp_path,
            check=True,
            baseline_path=tmp_path / "missing.json",
            answerer=FakeAnswerer({}),
        )


def test_a_citation_quoting_the_answer_inside_a_hyphenated_word_counts() -> None:
    from qa.answers import Answer, Citation
    from qa.evaluation.scoring import citation_supported

    quote = "Madrid-based human rights group Safeguard Defenders says it found more."
    answer = Answer(
        text="Madrid",
        score=0.9,
        citations=[
            Citation(
                doc_id="d1",
                title="t",
                start=0,
                end=6,
                quote=quote,
                quote_start=0,
                quote_end=len(quote),
            )
        ],
    )
    assert citation_supported(answer, ["d1"])
    assert not citation_supported(answer, ["d2"])
