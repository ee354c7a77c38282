"""The command line as a person or a script meets it, run as `python -m qa` in a subprocess:
checks before any model loads, exit statuses, usage errors, help, one-line errors, human output
numbered by source and emphasised on a terminal, `qa chat`, and no third-party chatter."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import ROOT, hashing_embedder, write_corpus

from qa.answering import Answerer
from qa.settings import Settings

# Nothing listens here (the tests' port range): a database "server" that is down.
CLOSED_PORT = 18201
ANSWERABLE = "Who designed the Harbour Tower?"
UNRELATED = "What is the capital of Mongolia?"


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whatever is installed
    if "QA_READER_MODEL_PATH" in os.environ:
        env["QA_READER_MODEL_PATH"] = os.environ["QA_READER_MODEL_PATH"]
    env.update(extra)
    return env


def qa(
    args: Sequence[str], *, stdin: str = "", timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(**env),
        timeout=timeout,
    )


def qa_on_a_terminal(args: Sequence[str], **env: str) -> str:
    """Run with stdout on a pseudo-terminal (as a person's shell has it); returns what it drew."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "qa", *args],
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=_environment(**env),
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        drawn += chunk
    process.wait(timeout=600)
    os.close(controller)
    return drawn.decode("utf-8")


# --- before any model loads -------------------------------------------------------------------


def test_an_empty_question_is_refused_in_one_line_before_anything_loads(tmp_path: Path) -> None:
    # Neither a reader model nor an index exists: the question is checked before either is sought.
    result = qa(
        ["ask", "   ", "--index", str(tmp_path / "none")],
        QA_READER_MODEL_PATH=str(tmp_path / "no-model"),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "qa: the question is empty: ask something about the documents"
    ]
    assert result.stdout == ""


def test_a_missing_reader_model_is_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = qa(["ask", "Who built it?"], QA_READER_MODEL_PATH=str(tmp_path / "no-model"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "QA_READER_MODEL_PATH" in lines[0], result.stderr


def test_an_unknown_option_shows_the_subcommand_usage() -> None:
    result = qa(["ask", "Who built it?", "--bogus"])
    assert result.returncode == 2
    assert result.stderr.startswith("usage: qa ask"), result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr


def test_help_gives_examples_environment_and_exit_statuses() -> None:
    top = qa(["--help"])
    assert top.returncode == 0
    for expected in ("examples:", "qa chat", "QA_PORT", "QA_READER_MODEL_PATH", "NO_COLOR"):
        assert expected in top.stdout, expected
    ask = qa(["ask", "--help"])
    assert "exit status:" in ask.stdout and "1    no answer" in ask.stdout
    chat = qa(["chat", "--help"])
    assert "/new" in chat.stdout and "--json" in chat.stdout


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    result = qa(
        ["serve", "--index", str(tmp_path / "index"), "--port", "18202"],
        QA_DATABASE_URL=f"postgresql://qa@127.0.0.1:{CLOSED_PORT}/qa",
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qa: cannot reach the session database")
    assert "QA_DATABASE_URL" in lines[0]


def test_eval_writes_into_a_git_ignored_folder_by_default() -> None:
    from qa.cli import _new_run_dir, parse_arguments

    assert parse_arguments(["eval"]).out is None  # so the run folder is used
    folder = _new_run_dir() / "report.md"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(folder)], cwd=ROOT, capture_output=True
    )
    assert ignored.returncode == 0, f"{folder} is not git-ignored"
    assert parse_arguments(["eval", "--out", "eval"]).out == "eval"


# --- with the real models over a tiny corpus --------------------------------------------------


@pytest.fixture(scope="module")
def tiny_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`--corpus/--index` of the tiny corpus, indexed by `qa index` with the real embedder."""
    root = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(root / "corpus")
    paths = ["--corpus", str(corpus), "--index", str(root / "index")]
    built = qa(["index", *paths])
    assert built.returncode == 0, built.stderr
    return paths


@pytest.mark.model
@pytest.mark.parametrize("question", [ANSWERABLE, UNRELATED])
def test_the_exit_status_says_whether_there_was_an_answer(
    tiny_paths: list[str], question: str
) -> None:
    result = qa(["ask", question, "--json", *tiny_paths])
    response = json.loads(result.stdout)
    assert result.returncode == (1 if response["abstained"] else 0)
    # No progress bars or library warnings without --verbose.
    assert result.stderr == ""
    for answer in response["answers"]:
        for citation in answer["citations"]:
            offset = citation["start"] - citation["quote_start"]
            assert citation["quote"][offset : offset + len(answer["text"])] == answer["text"]


@pytest.mark.model
def test_an_unrelated_question_exits_1_with_the_message(tiny_paths: list[str]) -> None:
    result = qa(["ask", UNRELATED, *tiny_paths])
    if result.returncode == 0:
        pytest.skip("the interim reader answered an unrelated question")
    assert result.returncode == 1
    assert result.stdout.strip() == "I could not find that in the documents."


@pytest.mark.model
def test_human_output_numbers_sources_and_emphasises_answers_on_a_terminal(
    tiny_paths: list[str],
) -> None:
    answers = json.loads(qa(["ask", ANSWERABLE, "--json", *tiny_paths]).stdout)["answers"]
    assert answers, "the reader abstained on the tiny corpus's easiest question"
    drawn = qa_on_a_terminal(["ask", ANSWERABLE, *tiny_paths])
    assert f"\033[1m{answers[0]['text']}\033[0m [1]" in drawn
    lines = drawn.replace("\r\n", "\n").splitlines()
    sources = lines[lines.index("Sources:") + 1 :: 2]
    distinct = {(c["doc_id"], c["quote_start"]) for a in answers for c in a["citations"]}
    assert [line.split("]")[0].strip() for line in sources] == [
        f"[{n}" for n in range(1, len(distinct) + 1)
    ]
    plain = qa_on_a_terminal(["ask", ANSWERABLE, *tiny_paths], NO_COLOR="1")
    assert "\033[" not in plain and answers[0]["text"] in plain
    piped = qa(["ask", ANSWERABLE, *tiny_paths])
    assert "\033[" not in piped.stdout and piped.returncode == 0


@pytest.mark.model
def test_chat_reads_follow_ups_and_prints_a_json_line_per_turn(tiny_paths: list[str]) -> None:
    result = qa(
        ["chat", "--json", *tiny_paths],
        stdin=f"{ANSWERABLE}\n\n   \nWhen was it completed?\n/quit\nnever asked\n",
    )
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["question"] for t in turns] == [ANSWERABLE, "When was it completed?"]
    assert "Harbour Tower" in turns[1]["resolved_question"]
    assert result.stderr == ""


@pytest.mark.model
def test_chat_keeps_going_after_a_question_it_cannot_take(tiny_paths: list[str]) -> None:
    result = qa(["chat", *tiny_paths], stdin=f"???\n{ANSWERABLE}\n")
    assert result.returncode == 0
    assert "qa: the question has no letters or digits" in result.stderr
    assert "Sources:" in result.stdout or "could not find" in result.stdout


def test_serve_answers_from_the_existing_build_while_a_stale_index_is_rebuilt(
    index_copy: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa import cli_serve

    (index_copy.corpus_dir / "mill.txt").write_text("The Water Mill\n\nIt was restored in 1990.\n")
    started: list[list[str]] = []

    class Child:
        def __init__(self, command: list[str]) -> None:
            started.append(command)

        def poll(self) -> int | None:
            return None

        def terminate(self) -> None:
            started.append(["terminated"])

    def run_server(*_args: object, **_kwargs: object) -> None:
        assert started, "the server started before the rebuild was under way"
        # What the server would load meanwhile: the build that was there before.
        answer = Answerer(index_copy, embedder=hashing_embedder()).ask("Who designed the tower?")
        assert [a.text for a in answer.answers] == ["Maria Lopez"]

    monkeypatch.setattr(cli_serve.subprocess, "Popen", Child)
    monkeypatch.setattr("uvicorn.run", run_server)
    built: list[Settings] = []
    cli_serve.serve(index_copy, "127.0.0.1", 18203, 1, built.append)
    assert built == []  # nothing was built in the foreground
    assert started[0][1:4] == ["-m", "qa", "index"]
    assert str(index_copy.index_dir) in started[0]
    assert started[-1] == ["terminated"]  # the server stopped before the build ended
    assert "rebuilt in the background [the corpus changed]" in capsys.readouterr().err


def test_serve_builds_a_missing_index_before_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import cli_serve

    order: list[str] = []
    monkeypatch.setattr("uvicorn.run", lambda *_a, **_k: order.append("serve"))
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    cli_serve.serve(settings, None, None, 1, lambda _s: order.append("build"))
    assert order == ["build", "serve"]
