"""The command line: `qa index`, `qa ask`, `qa serve`, `qa eval`: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from qa import __version__
from qa.settings import Settings


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


def _cmd_ask(args: argparse.Namespace) -> int:
    from qa.answering import Answerer

    settings = _settings(args)
    ensure_index(settings, quiet=True)
    response = Answerer(settings).ask(args.question, top_k=args.top_k)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    if response.abstained:
        print(response.message)
        return 0
    for number, answer in enumerate(response.answers, start=1):
        print(f"{answer.text}  (score {answer.score:.2f})")
        for citation in answer.citations[:3]:
            print(
                f"    [{number}] {citation.title} ({citation.doc_id} "
                f'{citation.start}-{citation.end}): "{citation.quote}"'
            )
    return 0


# How `qa serve` runs uvicorn. Its own X-Forwarded-For handling is off: it trusts 127.0.0.1 by
# default, which let any local client pick its rate-limit bucket; QA_TRUSTED_PROXIES says whom
# to believe instead (api/proxies.py).
SERVER_OPTIONS: dict[str, object] = {"factory": True, "log_level": "info", "proxy_headers": False}


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    settings = _settings(args)
    ensure_index(settings)
    # Worker processes read their settings from the environment, so hand the paths on.
    os.environ["QA_CORPUS_DIR"] = str(settings.corpus_dir)
    os.environ["QA_INDEX_DIR"] = str(settings.index_dir)
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"serving on http://{host}:{port}  (chat page at /, API docs at /docs)", file=sys.stderr)
    uvicorn.run("api.main:create_app", host=host, port=port, workers=args.workers, **SERVER_OPTIONS)
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
    from qa.evaluation import run_cli

    settings = _settings(args)
    ensure_index(settings, quiet=True)
    return run_cli(
        settings,
        gold_path=Path(args.gold),
        out_dir=Path(args.out),
        check=args.check,
        baseline_path=Path(args.baseline),
        write_baseline=args.write_baseline,
    )


def _cmd_train_reader(args: argparse.Namespace) -> int:
    from qa.training.command import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Cited, extractive answers from a folder of documents."
    )
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", metavar="DIR", help="documents folder (default: corpus/)")
    common.add_argument("--index", metavar="DIR", help="index folder (default: index/)")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", parents=[common], help="build or update the index")
    index.add_argument(
        "--force",
        action="store_true",
        help="rebuild from scratch, even if up to date: every document is read and embedded again",
    )
    index.set_defaults(run=_cmd_index)

    ask = commands.add_parser("ask", parents=[common], help="ask one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the same JSON as POST /ask")
    ask.add_argument("--top-k", type=int, default=5, help="passages to return (default 5)")
    ask.set_defaults(run=_cmd_ask)

    serve = commands.add_parser("serve", parents=[common], help="run the HTTP service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.set_defaults(run=_cmd_serve)

    slack = commands.add_parser("slack", parents=[common], help="answer in Slack (Socket Mode)")
    slack.add_argument("--socket", action="store_true", help="connect out with SLACK_APP_TOKEN")
    slack.set_defaults(run=_cmd_slack)

    evaluate = commands.add_parser("eval", parents=[common], help="score answers on a gold set")
    evaluate.add_argument("--gold", default="eval/gold.jsonl")
    evaluate.add_argument("--out", default="eval", help="where report.md and report.json go")
    evaluate.add_argument("--baseline", default="eval/baseline.json")
    evaluate.add_argument(
        "--check", action="store_true", help="fail when a figure falls below the baseline"
    )
    evaluate.add_argument(
        "--write-baseline", action="store_true", help="save this run's figures as the new baseline"
    )
    evaluate.set_defaults(run=_cmd_eval)

    from qa.training.command import add_arguments

    train = commands.add_parser(
        "train-reader", help="train the span reader on the shared datasets (an hour or more)"
    )
    add_arguments(train)
    train.set_defaults(run=_cmd_train_reader)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qa.answering import InvalidQuestionError
    from qa.disk_space import DiskFullError
    from qa.indexing import EmptyCorpusError, IndexMissingError, OutdatedBuildError
    from qa.integrity import DamagedBuildError

    try:
        return int(args.run(args))
    except (DamagedBuildError, OutdatedBuildError) as error:
        print(f"qa: {error}: run `qa index` to rebuild it", file=sys.stderr)
        return 2
    except (
        InvalidQuestionError,
        EmptyCorpusError,
        IndexMissingError,
        DiskFullError,
        OSError,
    ) as error:
        print(f"qa: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "build_parser", "ensure_index", "json"]
