"""Candidate faster encoders against the baseline: plain sentence-transformers, torch fp32.

The second row is what `qa index` runs: ``qa.embedding.load_embedder`` at the default
``embed_precision`` (bfloat16 autocast where the CPU has native bf16, else float32). Measured
here, not shipped: the whole model cast to bfloat16, torch int8 dynamic quantisation of the
Linear layers, and the same model exported to ONNX (locally, from the model folder, offline) run
by onnxruntime in fp32 and with int8 dynamic quantisation of its MatMuls, per channel. The ONNX
rows need the optional packages ``onnxruntime`` and ``onnx``; without them they are skipped with
a message.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.measures import row_cosines, top_k_overlap

BATCH_SIZE = 32
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length

Encode = Callable[[list[str]], np.ndarray]


def _plain_model(model_path: str):  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path, device="cpu", local_files_only=True)


def _st_encoder(model) -> Encode:  # type: ignore[no-untyped-def]
    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(
            model.encode(
                texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
            ),
            dtype=np.float32,
        )

    return encode


def _qa_encoder(model_path: str) -> tuple[str, Encode]:
    """The embedder `qa index` builds with, at the default precision, and its row's name."""
    from qa.embedding import load_embedder
    from qa.settings import Settings

    embedder = load_embedder(model_path, BATCH_SIZE, Settings().embed_precision)
    precision = getattr(embedder, "precision", "float32")
    label = "bf16 autocast" if precision == "bfloat16" else precision
    return f"qa embedder, {label} (the build's default)", embedder.encode


def _bf16_cast_encoder(model_path: str) -> Encode:
    """Every weight and activation in bfloat16; vectors normalised again in float32."""
    import torch

    model = _plain_model(model_path).to(torch.bfloat16)

    def encode(texts: list[str]) -> np.ndarray:
        tensor = model.encode(
            texts, batch_size=BATCH_SIZE, convert_to_tensor=True, show_progress_bar=False
        )
        vectors = tensor.float().numpy()
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    return encode


def _onnx_encoder(model, onnx_path: Path) -> Encode:  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    tokenizer = model.tokenizer
    inputs = [i.name for i in session.get_inputs()]

    def encode(texts: list[str]) -> np.ndarray:
        # Longest first, as sentence-transformers does, so batches carry little padding.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            batch = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="np",
            )
            hidden = session.run(None, {n: batch[n].astype(np.int64) for n in inputs})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    return encode


def _export_onnx(model, folder: Path) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """The transformer of ``model`` as ONNX fp32, and an int8 (per-channel MatMul) copy."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    bert = model[0].auto_model.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = model.tokenizer(["a short sample", "another"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32, int8 = folder / "model.onnx", folder / "model.int8.onnx"
    with torch.no_grad():
        torch.onnx.export(
            _Hidden(),
            tuple(sample[n] for n in names),
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(
        str(fp32),
        str(int8),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
    return fp32, int8


def compare_encoders(
    model_path: str, chunks: list[str], questions: list[str], rounds: int = 3
) -> dict[str, object]:
    """chunks/s of each encoder, and how close its vectors and rankings stay to torch fp32.

    The encoders take turns for ``rounds`` rounds and each keeps its fastest: other work on a
    shared machine then slows every encoder alike instead of whichever ran at the wrong time.
    """
    import torch

    model = _plain_model(model_path)
    encoders: dict[str, Encode] = {"torch fp32 (baseline)": _st_encoder(model)}
    name, encode = _qa_encoder(model_path)
    encoders[name] = encode
    encoders["torch bf16, whole model cast"] = _bf16_cast_encoder(model_path)
    quantised = torch.quantization.quantize_dynamic(
        _plain_model(model_path), {torch.nn.Linear}, dtype=torch.qint8
    )
    encoders["torch int8 dynamic"] = _st_encoder(quantised)
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError:
            skipped.append("onnx rows skipped: pip install onnxruntime onnx to measure them")
        else:
            fp32, int8 = _export_onnx(model, Path(folder))
            encoders["onnxruntime fp32"] = _onnx_encoder(model, fp32)
            encoders["onnxruntime int8 per-channel"] = _onnx_encoder(model, int8)
        best = {name: float("inf") for name in encoders}
        vectors: dict[str, np.ndarray] = {}
        for encode in encoders.values():
            encode(chunks[:BATCH_SIZE])  # warm-up
        for _ in range(rounds):
            for name, encode in encoders.items():
                started = time.perf_counter()
                vectors[name] = encode(chunks)
                best[name] = min(best[name], time.perf_counter() - started)
        tops = {
            name: np.argsort(-(encode(questions) @ vectors[name].T), axis=1)[:, :5]
            for name, encode in encoders.items()
        }
    base = next(iter(encoders))
    rows = []
    for name in encoders:
        overlap = float(
            np.mean([top_k_overlap(a, b, 5) for a, b in zip(tops[name], tops[base], strict=True)])
        )
        speed, base_speed = len(chunks) / best[name], len(chunks) / best[base]
        rows.append(_row(name, speed, base_speed, vectors[name], vectors[base], overlap))
    return {
        "chunks": len(chunks),
        "questions": len(questions),
        "rounds": rounds,
        "rows": rows,
        "skipped": skipped,
    }


def _row(
    name: str,
    speed: float,
    base_speed: float,
    vectors: np.ndarray,
    base: np.ndarray,
    overlap: float = 1.0,
) -> dict[str, object]:
    cos = row_cosines(vectors, base)
    return {
        "encoder": name,
        "chunks_per_second": round(speed, 2),
        "speedup": round(speed / base_speed, 2),
        "cosine_min": round(float(cos.min()), 4),
        "cosine_mean": round(float(cos.mean()), 4),
        "top5_overlap": round(overlap, 4),
    }
