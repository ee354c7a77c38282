"""The bench's results as plain-text tables (the same figures as bench/results/latest.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TARGET_P95_MS = 10.0
TARGET_RECALL = 0.95
TARGET_BYTES = 1_000_000_000


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned text table with a rule under the headers."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _per_second(count: object, seconds: object) -> float:
    return round(float(str(count)) / float(str(seconds)), 1) if float(str(seconds)) else 0.0


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_tables(results: dict[str, Any]) -> None:
    machine = results.get("machine", {})
    print(
        f"\nmachine: {machine.get('cpus')} CPUs, torch {machine.get('torch')}, "
        f"faiss {machine.get('faiss')}, load average before/after "
        f"{_load(machine.get('load_average_before'))} / {_load(machine.get('load_average_after'))}"
    )
    if "build" in results:
        b = results["build"]
        print(
            f"\n== index build (bundled corpus, from scratch, child process, "
            f"best of {b['rounds']}) =="
        )
        builds = [b[key] for key in ("default", "float32") if key in b]
        print(
            table(
                [
                    "precision",
                    "documents",
                    "chunks",
                    "texts embedded",
                    "build s",
                    "embed s",
                    "other s",
                    "chunks/s",
                    "model load s",
                    "spaCy load s",
                    "RSS before build MB",
                    "peak RSS MB",
                ],
                [
                    [
                        r["precision"],
                        r["documents"],
                        r["chunks"],
                        r["texts_embedded"],
                        r["build_seconds"],
                        r["embed_seconds"],
                        r["other_seconds"],
                        r["chunks_per_second"],
                        r["model_load_seconds"],
                        r.get("spacy_load_seconds", ""),
                        r["rss_before_build_mb"],
                        r["peak_rss_mb"],
                    ]
                    for r in builds
                ],
            )
        )
        stages = [(r["precision"], r["stage_seconds"]) for r in builds if r.get("stage_seconds")]
        if stages:
            names = list(stages[0][1])
            print("  where a build's time goes (s):")
            print(table(["precision", *names], [[p, *(s[n] for n in names)] for p, s in stages]))
    if "encoders" in results:
        e = results["encoders"]
        print(
            f"\n== encoders: {e['chunks']} chunks of 120 words, batch 32; "
            f"top-5 overlap over {e['questions']} gold questions =="
        )
        print(
            table(
                ["encoder", "chunks/s", "x baseline", "cos min", "cos mean", "top-5 overlap"],
                [
                    [
                        r["encoder"],
                        r["chunks_per_second"],
                        r["speedup"],
                        r["cosine_min"],
                        r["cosine_mean"],
                        r["top5_overlap"],
                    ]
                    for r in e["rows"]
                ],
            )
        )
        for note in e.get("skipped", []):
            print(f"  ({note})")
        if "build" in results and "default" in results["build"]:
            plain = e["rows"][0]["chunks_per_second"]
            build = results["build"]["default"]
            print(
                f"  build at {build['precision']}: {build['chunks_per_second']} chunks/s in all, "
                f"{_per_second(build['chunks'], build['embed_seconds'])} chunks/s embedding; plain sentence-transformers fp32: {plain} chunks/s"
            )
    if "ask" in results:
        a = results["ask"]
        print(
            f"\n== in process: {a['questions']} questions x {a['rounds']}, "
            f"index {a['index_kind']} =="
        )
        print(
            table(
                ["", "p50 ms", "p95 ms", "mean ms"],
                [
                    ["Answerer.ask", a["ask"]["p50_ms"], a["ask"]["p95_ms"], a["ask"]["mean_ms"]],
                    [
                        "floor: embed + FAISS + reader pass",
                        a["floor"]["p50_ms"],
                        a["floor"]["p95_ms"],
                        a["floor"]["mean_ms"],
                    ],
                    [
                        "ask - floor",
                        a["reader_overhead_p50_ms"],
                        a["reader_overhead_p95_ms"],
                        a["reader_overhead_mean_ms"],
                    ],
                    ["ask / floor", a["ratio_p50"], a["ratio_p95"], ""],
                ],
            )
        )
    if "peers" in results:
        from bench.peers import print_peers

        print_peers(results["peers"])
    if "reader" in results:
        r = results["reader"]
        print("\n== reader: ours beside Haystack's, same weights and passages ==")
        if "skipped" in r:
            print(f"skipped: {r['skipped']}")
        else:
            print(
                table(
                    ["reader", "p50 ms", "p95 ms", "mean ms"],
                    [
                        [
                            "qa Reader.read (windows, model, citations)",
                            r["ours"]["p50_ms"],
                            r["ours"]["p95_ms"],
                            r["ours"]["mean_ms"],
                        ],
                        [
                            "Haystack TransformersExtractiveReader",
                            r["haystack"]["p50_ms"],
                            r["haystack"]["p95_ms"],
                            r["haystack"]["mean_ms"],
                        ],
                    ],
                )
            )
            focus = r.get("focus_words", 0)
            reads = (
                f"ours reads windows of up to {focus} words around the best sentences, "
                "Haystack's whole passages"
                if focus
                else "both read whole passages"
            )
            print(
                f"{r['questions']} questions, {r['passages']} passages each ({reads}); ours is "
                f"{r['speedup_p50']}x faster at p50; same best answer for "
                f"{r['same_best_answer']:.0%} of questions"
            )
    if "http" in results:
        h = results["http"]
        print("\n== over HTTP ==")
        if "skipped" in h:
            print(f"  skipped: {h['skipped']}")
        else:
            s, load = h["single_client"], h["load"]
            print(
                table(
                    ["", "requests", "failed", "req/s", "p50 ms", "p95 ms"],
                    [
                        [
                            "/ask, one client, 1 worker",
                            s["requests"],
                            s["failures"],
                            "",
                            s["latency"]["p50_ms"],
                            s["latency"]["p95_ms"],
                        ],
                        [
                            f"/ask, {load['clients']} clients {load['seconds']:.0f}s, "
                            f"{load['workers']} workers",
                            load["requests"],
                            load["failures"],
                            load["requests_per_second"],
                            load["latency"]["p50_ms"],
                            load["latency"]["p95_ms"],
                        ],
                    ],
                )
            )
            if load.get("failure_kinds"):
                print(f"  failures: {load['failure_kinds']}")
            if "sweep" in h:
                _print_sweep(h["sweep"], h.get("within_p95_target") or {})
    if "scale" in results:
        print(
            f"\n== vector search, synthetic clustered 384-d; targets: p95 <= {TARGET_P95_MS:g} ms"
            f" at recall@10 >= {TARGET_RECALL}, index <= 1 GB =="
        )
        rows = []
        for size in results["scale"]:
            for kind in size["kinds"]:
                for point in kind["points"]:
                    default = kind["default_effort"] in (None, point["effort"])
                    rows.append(
                        [
                            f"{size['count']:,}",
                            kind["kind"] + (" *" if kind["kind"] == size["chosen_kind"] else ""),
                            point["effort"] or "-",
                            "yes" if default else "",
                            point["recall_at_10"],
                            point["latency"]["p50_ms"],
                            point["latency"]["p95_ms"],
                            round(kind["index_bytes"] / 1e6, 1),
                            kind["build_seconds"],
                            _meets(point, kind["index_bytes"]),
                        ]
                    )
        print(
            table(
                [
                    "vectors",
                    "kind",
                    "effort",
                    "default",
                    "recall@10",
                    "p50 ms",
                    "p95 ms",
                    "index MB",
                    "build s",
                    "meets",
                ],
                rows,
            )
        )
        print("  * the kind choose_index_kind picks at that size; effort = efSearch or nprobe")


def _meets(point: dict[str, Any], size: int) -> str:
    ok = (
        point["recall_at_10"] >= TARGET_RECALL
        and point["latency"]["p95_ms"] <= TARGET_P95_MS
        and size <= TARGET_BYTES
    )
    return "yes" if ok else "no"


def _print_sweep(sweep: dict[str, Any], best: dict[str, Any]) -> None:
    print(f"\n== /ask under load, {sweep['workers']} workers, closed-loop clients ==")
    rows = [
        [
            level["clients"],
            level["requests"],
            level["failures"],
            level["requests_per_second"],
            level["latency"]["p50_ms"],
            level["latency"]["p95_ms"],
        ]
        for level in sweep["levels"]
    ]
    print(table(["clients", "requests", "failed", "req/s", "p50 ms", "p95 ms"], rows))
    if best:
        print(
            f"  most answers per second with p95 <= {best['p95_target_ms']:g} ms: "
            f"{best['requests_per_second']} req/s ({best['clients']} clients, "
            f"p95 {best['p95_ms']} ms)"
        )
    else:
        print("  no load level kept p95 within the target")


def _load(value: object) -> str:
    if isinstance(value, list | tuple):
        return "/".join(f"{v:.1f}" for v in value)
    return "?"
