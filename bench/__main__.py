"""One command for every figure: `.venv/bin/python -m bench [--quick]`.

Sections: index build and the encoder baseline; indexing and retrieval beside Haystack and
txtai on encyclopedia paragraphs; in-process `Answerer.ask` against the floor
(one embedding + one FAISS search + one reader forward pass); our reader beside Haystack's
with the same weights; /ask over HTTP and a load run against `qa serve --workers 2`;
vector search at 10k / 100k / 1M synthetic vectors. Prints tables and writes
bench/results/latest.json. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SIZES = [10_000, 100_000, 1_000_000]
QUICK_SIZES = [10_000, 100_000]
# HNSW over a million vectors takes many minutes to build on two cores and its float32 vectors
# alone are 1.5 GB, past the 1 GB target; it is measured there only when asked.
HNSW_MAX_MEASURED = 100_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="scale at 10k and 100k only")
    parser.add_argument("--corpus", default="corpus", help="the bundled corpus folder")
    parser.add_argument("--gold", default="eval/gold.jsonl")
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument("--chunks", type=int, default=256, help="120-word chunks for encoders")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the gold questions")
    parser.add_argument("--clients", type=int, default=50, help="load: concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="load: duration")
    parser.add_argument("--hnsw-1m", action="store_true", help="also build HNSW at 1M (slow)")
    parser.add_argument(
        "--datasets", default="../shared/datasets", help="where the peers' paragraphs are read"
    )
    parser.add_argument("--peer-paragraphs", type=int, default=400)
    parser.add_argument("--peer-questions", type=int, default=500)
    for section in ("build", "peers", "encoders", "ask", "reader", "http", "scale"):
        parser.add_argument(f"--skip-{section}", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bench.build import compare_builds, measure_build, synthetic_chunks
    from bench.latency import gold_questions, measure_ask
    from bench.report import print_tables
    from qa.settings import Settings

    corpus = Path(args.corpus).resolve()
    questions = gold_questions(Path(args.gold))
    results: dict[str, object] = {"machine": _machine()}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as scratch:
        index = Path(scratch) / "index"
        # Always build: the ask and HTTP sections need an index that is not the live one.
        if args.skip_build:
            _say("building the bundled corpus from scratch (not measured)")
            measure_build(corpus, index)
        else:
            _say("building the bundled corpus from scratch, default precision and float32 x3")
            results["build"] = compare_builds(corpus, Path(scratch), index)
        settings = Settings(corpus_dir=corpus, index_dir=index)
        if not args.skip_peers:
            _say("indexing and retrieval beside Haystack and txtai, same paragraphs and model")
            from bench.peers import compare_peers

            results["peers"] = compare_peers(
                Path(args.datasets), Path(scratch), args.peer_paragraphs, args.peer_questions
            )
        if not args.skip_encoders:
            _say(f"encoders on {args.chunks} chunks of 120 words")
            from bench.encoders import compare_encoders

            chunks = synthetic_chunks(corpus, args.chunks if not args.quick else 96)
            results["encoders"] = compare_encoders(
                settings.resolved_model_path(), chunks, questions
            )
        if not args.skip_ask:
            _say(f"Answerer.ask over {len(questions)} questions x {args.rounds}")
            results["ask"] = measure_ask(settings, questions, args.rounds)
        if not args.skip_reader:
            _say("the reader beside Haystack's TransformersExtractiveReader, same weights")
            from bench.reader import compare_readers

            results["reader"] = compare_readers(settings, questions)
        if not args.skip_http:
            _say(f"HTTP: /ask, then {args.clients} clients for {args.seconds:.0f}s on 2 workers")
            from bench.serving import ServerUnavailableError, measure_serving

            try:
                results["http"] = measure_serving(
                    corpus, index, questions, args.clients, args.seconds, Path(scratch)
                )
            except ServerUnavailableError as error:
                log = next(Path(scratch).glob("serve-*.log"), None)
                tail = log.read_text()[-2000:] if log else ""
                results["http"] = {"skipped": str(error), "log_tail": tail}
    if not args.skip_scale:
        from bench.scale import measure_size

        results["scale"] = []
        for count in QUICK_SIZES if args.quick else SIZES:
            _say(f"scale: {count:,} synthetic vectors")
            kinds = ["flat", "ivf-sq8"]
            if count <= HNSW_MAX_MEASURED or args.hnsw_1m:
                kinds.insert(1, "hnsw")
            results["scale"].append(measure_size(count, kinds))  # type: ignore[attr-defined]
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_after"] = os.getloadavg()  # type: ignore[index]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_tables(results)
    print(f"\nwritten to {out} ({results['seconds']:.0f}s)")
    return 0


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _machine() -> dict[str, object]:
    import faiss
    import torch

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "commit": commit,
        "load_average_before": os.getloadavg(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
