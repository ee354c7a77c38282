"""The command line: `qa index`, `qa ask`, `qa chat`, `qa serve`, `qa eval`: a thin layer over
the library. Exit statuses and help texts are in qa/cli_help.py, human output in qa/cli_output.py."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from qa import __version__
from qa.cli_help import (
    ASK_EPILOG,
    CHAT_EPILOG,
    EXIT_ANSWERED,
    EXIT_INTERRUPTED,
    EXIT_NO_ANSWER,
    EXIT_USAGE,
    MAIN_EPILOG,
)
from qa.settings import Settings

# `qa eval` writes here unless --out says otherwise: git-ignored, so a run leaves the
# repository clean (the committed eval/report.* are refreshed only on purpose, with --out eval).
EVAL_RUNS_DIR = Path("eval/runs")


class ReaderModelMissingError(FileNotFoundError):
    """No reader model folder where the settings point."""


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "corpus", None):
        overrides["corpus_dir"] = Path(args.corpus)
    if getattr(args, "index", None):
        overrides["index_dir"] = Path(args.index)
    return Settings(**overrides)  # type: ignore[arg-type]


def _embedder_factory(settings: Settings):  # type: ignore[no-untyped-def]
    from qa.embedding import load_embedder

    return lambda: load_embedder(
        settings.resolved_model_path(), settings.embed_batch_size, settings.embed_precision
    )


def ensure_index(settings: Settings, *, force: bool = False, quiet: bool = False) -> None:
    """Build the index when it is missing or stale, reporting unreadable files by name."""
    from qa.indexing import build_index

    report = build_index(settings, _embedder_factory(settings), force=force)
    for failure in report.failures:
        print(f"skipped {failure.file}: {failure.reason}", file=sys.stderr)
    if quiet:
        return
    if report.built:
        print(
            f"indexed {report.documents} documents, {report.chunks} chunks "
            f"({report.embedded_chunks} embedded, {report.reused_documents} documents reused) "
            f"in {report.seconds:.1f}s [{report.reason}]",
            file=sys.stderr,
        )
    else:
        print(
            f"index is up to date ({report.documents} documents, {report.chunks} chunks)",
            file=sys.stderr,
        )


def _cmd_index(args: argparse.Namespace) -> int:
    ensure_index(_settings(args), force=args.force)
    return 0


def _require_reader(settings: Settings) -> None:
    """Fail at once, before anything loads, when there is no reader model to load."""
    folder = settings.resolved_reader_path()
    if not (folder / "config.json").is_file():
        raise ReaderModelMissingError(
            f"no reader model in {folder}: set QA_READER_MODEL_PATH to a trained model folder "
            "or run `qa train-reader`"
        )


def _answerer(settings: Settings):  # type: ignore[no-untyped-def]
    from qa.answering import Answerer

    _require_reader(settings)
    ensure_index(settings, quiet=True)
    return Answerer(settings)


def _cmd_ask(args: argparse.Namespace) -> int:
    from qa.answering import validated_question
    from qa.cli_output import render_response, use_colour

    settings = _settings(args)
    # Cheap checks first: an empty or oversized question is refused without loading a model.
    validated_question(args.question, settings.max_question_chars)
    response = _answerer(settings).ask(args.question, top_k=args.top_k)
    if args.json:
        print(response.model_dump_json(indent=2))
    else:
        print(render_response(response, use_colour(sys.stdout, settings.no_color)))
    return EXIT_NO_ANSWER if response.abstained else EXIT_ANSWERED


def _cmd_chat(args: argparse.Namespace) -> int:
    from qa.cli_chat import run_chat

    settings = _settings(args)
    if sys.stdin.isatty():
        print("loading the model...", file=sys.stderr)
    return run_chat(
        _answerer(settings), as_json=args.json, top_k=args.top_k, no_color=settings.no_color
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from qa.cli_serve import serve

    serve(_settings(args), args.host, args.port, args.workers, ensure_index)
    return 0


def _cmd_slack(args: argparse.Namespace) -> int:
    from api.slack_app import SlackNotConfiguredError
    from api.slack_socket import require_socket_mode_settings, run_socket_mode

    if not args.socket:
        print(
            "qa: Slack over HTTP is part of `qa serve` (POST /slack/events); "
            "use `qa slack --socket` where Slack cannot reach this machine",
            file=sys.stderr,
        )
        return 2
    settings = _settings(args)
    try:
        require_socket_mode_settings(settings)  # before building the index, which may be slow
        ensure_index(settings)
        run_socket_mode(settings)
    except SlackNotConfiguredError as error:
        print(f"qa: {error} (see slack/README.md)", file=sys.stderr)
        return 2
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation.runner import run_cli

    settings = _settings(args)
    ensure_index(settings, quiet=True)
    return run_cli(
        settings,
        gold_path=Path(args.gold),
        out_dir=Path(args.out) if args.out else _new_run_dir(),
        check=args.check,
        baseline_path=Path(args.baseline),
        write_baseline=args.write_baseline,
    )


def _new_run_dir(prefix: str = "") -> Path:
    """eval/runs/<prefix><UTC time>: a fresh, untracked folder per run."""
    from datetime import UTC, datetime

    return EVAL_RUNS_DIR / (prefix + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))


def _cmd_feedback_export(args: argparse.Namespace) -> int:
    from qa.feedback import CANDIDATES_FILE, REVIEW_FILE, export_feedback
    from qa.sessions import SessionPolicy, open_session_store

    settings = _settings(args)
    store = open_session_store(settings.sessions_url(), SessionPolicy.of(settings))
    folder = Path(args.out) if args.out else _new_run_dir("feedback-")
    report = export_feedback(store, folder)
    print(
        f"{report.candidates} rated 👍: {folder / CANDIDATES_FILE} (gold candidates to review); "
        f"{report.needs_review} rated 👎: {folder / REVIEW_FILE} (answers to fill in)",
        file=sys.stderr,
    )
    return EXIT_ANSWERED


def _cmd_train_reader(args: argparse.Namespace) -> int:
    from qa.training.command import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Cited, extractive answers from a folder of documents.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    parser.set_defaults(parser=parser, verbose=False)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="show the libraries' progress bars and logs"
    )
    common.add_argument("--corpus", metavar="DIR", help="documents folder (default: corpus/)")
    common.add_argument("--index", metavar="DIR", help="index folder (default: index/)")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", parents=[common], help="build or update the index")
    index.add_argument(
        "--force",
        action="store_true",
        help="rebuild from scratch, even if up to date: every document is read and embedded again",
    )
    index.set_defaults(run=_cmd_index, parser=index)

    ask = commands.add_parser(
        "ask",
        parents=[common],
        help="ask one question",
        epilog=ASK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the same JSON as POST /ask")
    ask.add_argument("--top-k", type=int, default=5, help="passages to return (default 5)")
    ask.set_defaults(run=_cmd_ask, parser=ask)

    chat = commands.add_parser(
        "chat",
        parents=[common],
        help="ask and follow up, with the model loaded once",
        description="An interactive conversation over the documents.",
        epilog=CHAT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    chat.add_argument("--json", action="store_true", help="one JSON line per turn, as POST /ask")
    chat.add_argument("--top-k", type=int, default=5, help="passages per answer (default 5)")
    chat.set_defaults(run=_cmd_chat, parser=chat)

    serve = commands.add_parser("serve", parents=[common], help="run the HTTP service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.set_defaults(run=_cmd_serve, parser=serve)

    slack = commands.add_parser("slack", parents=[common], help="answer in Slack (Socket Mode)")
    slack.add_argument("--socket", action="store_true", help="connect out with SLACK_APP_TOKEN")
    slack.set_defaults(run=_cmd_slack, parser=slack)

    evaluate = commands.add_parser("eval", parents=[common], help="score answers on a gold set")
    evaluate.add_argument("--gold", default="eval/gold.jsonl")
    evaluate.add_argument(
        "--out",
        default=None,
        help="where report.md and report.json go (default: a new folder in eval/runs/, "
        "git-ignored; --out eval refreshes the committed report)",
    )
    evaluate.add_argument("--baseline", default="eval/baseline.json")
    evaluate.add_argument(
        "--check", action="store_true", help="fail when a figure falls below the baseline"
    )
    evaluate.add_argument(
        "--write-baseline", action="store_true", help="save this run's figures as the new baseline"
    )
    evaluate.set_defaults(run=_cmd_eval, parser=evaluate)

    feedback = commands.add_parser("feedback", help="what people said about the answers")
    feedback_commands = feedback.add_subparsers(dest="feedback_command", required=True)
    export = feedback_commands.add_parser(
        "export",
        parents=[common],
        help="write rated answers as candidate gold items (eval/gold.jsonl format)",
        description="Rated turns from the session store (QA_DATABASE_URL, or the SQLite file "
        "beside the index) as gold items for a person to review before adding to eval/.",
    )
    export.add_argument(
        "--out", metavar="DIR", help="folder for the two files (default: eval/runs/feedback-<time>)"
    )
    export.set_defaults(run=_cmd_feedback_export, parser=export)
    feedback.set_defaults(parser=feedback)

    from qa.training.command import add_arguments

    train = commands.add_parser(
        "train-reader", help="train the span reader on the shared datasets (an hour or more)"
    )
    add_arguments(train)
    train.set_defaults(run=_cmd_train_reader, parser=train)
    return parser


def _one_line(error: BaseException) -> str:
    """An error as one line: drivers such as psycopg put their hints on lines of their own."""
    return " ".join(str(error).split())


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; an unknown option is reported with its own subcommand's usage."""
    args, extra = build_parser().parse_known_args(argv)
    if extra:
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    from qa.quiet_libraries import silence_third_party

    silence_third_party(args.verbose)
    from qa.answering import InvalidQuestionError
    from qa.disk_space import DiskFullError
    from qa.index_manifest import IndexMissingError, OutdatedBuildError
    from qa.indexing import EmptyCorpusError
    from qa.integrity import DamagedBuildError
    from qa.milvus_index import MilvusUnavailableError
    from qa.sessions import SessionStoreError

    try:
        return int(args.run(args))
    except (DamagedBuildError, OutdatedBuildError) as error:
        print(f"qa: {_one_line(error)}: run `qa index` to rebuild it", file=sys.stderr)
        return EXIT_USAGE
    except (
        InvalidQuestionError,
        EmptyCorpusError,
        IndexMissingError,
        DiskFullError,
        SessionStoreError,
        MilvusUnavailableError,
        OSError,
    ) as error:
        print(f"qa: {_one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "build_parser", "ensure_index", "json"]
