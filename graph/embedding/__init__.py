"""Embedders: the adapters that turn memory text into vectors.

Two choices:

``minilm`` (the default)
    ``MiniLMEmbedder``: all-MiniLM-L6-v2 as an int8 ONNX model, run locally on
    onnxruntime in one worker thread. Offline, no PyTorch, no API key; 384
    dimensions; fast on a CPU; English-centric; texts truncated at 256 tokens.

``openai``
    ``OpenAICompatibleEmbedder``: any server that speaks OpenAI's
    ``POST {base_url}/embeddings`` (OpenAI, Ollama, vLLM, LM Studio...). Pick it
    for larger or multilingual models. Needs ``base_url``, ``model`` and the
    model's ``dimensions``; ``api_key`` is optional (sent as a Bearer token).

Vectors from different models are not comparable: changing the embedder means
re-indexing, which is why every vector carries the embedder's ``model_id``.
"""

from __future__ import annotations

from graph.embedding.minilm import MiniLMEmbedder, ModelIntegrityError
from graph.embedding.openai_http import OpenAICompatibleEmbedder
from graph.errors import BadInput
from graph.ports import Embedder

__all__ = ["MiniLMEmbedder", "ModelIntegrityError", "OpenAICompatibleEmbedder", "create_embedder"]

KINDS = ("minilm", "openai")


def create_embedder(
    kind: str = "minilm",
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    dimensions: int | None = None,
    threads: int | None = None,
    timeout: float = 30.0,
) -> Embedder:
    """The embedder of ``kind`` ("minilm" or "openai"), configured and not yet loaded.

    ``minilm`` takes only ``threads`` (onnxruntime intra-op threads, default
    all CPUs); ``dimensions``, if given, must be 384. ``openai`` requires
    ``base_url``, ``model`` and ``dimensions`` and takes ``api_key``. Options
    that the chosen kind would ignore are rejected, so a mistyped setup fails
    at start-up instead of silently using the wrong model. ``timeout`` bounds
    each request of ``openai`` (seconds). Raises ``BadInput``
    with a message that names the problem.
    """
    choice = (kind or "minilm").strip().lower()
    if choice == "minilm":
        stray = [
            name
            for name, value in (("base_url", base_url), ("model", model), ("api_key", api_key))
            if value is not None
        ]
        if stray:
            raise BadInput(
                f"embedder 'minilm' does not take {', '.join(stray)}; "
                "those settings are for embedder 'openai'"
            )
        if dimensions is not None and dimensions != 384:
            raise BadInput(f"embedder 'minilm' makes 384-dimensional vectors, not {dimensions}")
        if threads is not None and threads < 1:
            raise BadInput("embedder threads must be at least 1")
        return MiniLMEmbedder(threads=threads)
    if choice == "openai":
        missing = [
            name
            for name, value in (
                ("base_url", base_url),
                ("model", model),
                ("dimensions", dimensions),
            )
            if value is None or value == ""
        ]
        if missing:
            raise BadInput(f"embedder 'openai' needs {', '.join(missing)}")
        if threads is not None:
            raise BadInput("embedder 'openai' does not take threads; that is for 'minilm'")
        assert base_url is not None and model is not None and dimensions is not None
        return OpenAICompatibleEmbedder(
            base_url=base_url, model=model, dimensions=dimensions, api_key=api_key, timeout=timeout
        )
    raise BadInput(f"unknown embedder {kind!r}; choose one of: {', '.join(KINDS)}")
