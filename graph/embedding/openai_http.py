"""Remote embeddings from any OpenAI-compatible ``POST {base_url}/embeddings`` server.

Works with OpenAI, Ollama, vLLM, LM Studio and the like. Every failure (HTTP
error, timeout, unreachable server, malformed payload, wrong vector size)
becomes ``graph.errors.Unavailable``; messages never contain the API key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import numpy as np

from graph.errors import BadInput, Unavailable
from graph.ports import Vectors

RETRY_DELAY = 0.2
"""Seconds to wait before the single retry of a 5xx answer or a failed connection."""

_RETRYABLE_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError)


class OpenAICompatibleEmbedder:
    """Embeds through an OpenAI-compatible HTTP API, ``batch_size`` texts per request.

    ``dimensions`` must be the model's vector length; it is known up front so
    the search index can be created before the first call, and every answer
    is checked against it. With ``request_dimensions`` the value is also sent
    in the request (for models that can shorten their vectors, such as
    OpenAI's text-embedding-3). ``model_id`` is the model name.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        dimensions: int,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
        request_dimensions: bool = False,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise BadInput("the embedding base_url must start with http:// or https://")
        if not model.strip():
            raise BadInput("the embedding model name must not be empty")
        if dimensions < 1:
            raise BadInput("the embedding dimensions must be a positive integer")
        if timeout <= 0:
            raise BadInput("the embedding timeout must be positive")
        if batch_size < 1:
            raise BadInput("the embedding batch_size must be at least 1")
        self._model = model
        self._dimensions = dimensions
        self._api_key = api_key or None
        self._batch_size = batch_size
        self._request_dimensions = request_dimensions
        self._timeout = timeout
        self._url = base_url.rstrip("/") + "/embeddings"
        self._where = str(httpx.URL(self._url).copy_with(username=None, password=None))
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(timeout=timeout, headers=headers)

    @property
    def model_id(self) -> str:
        """The remote model's name, stored with every vector."""
        return self._model

    @property
    def dimensions(self) -> int:
        """The configured vector length."""
        return self._dimensions

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """L2-normalised float32 vectors, one row per text, in the order given."""
        batch = list(texts)
        if not batch:
            return np.zeros((0, self._dimensions), dtype=np.float32)
        parts = [
            await self._embed_chunk(batch[start : start + self._batch_size])
            for start in range(0, len(batch), self._batch_size)
        ]
        return parts[0] if len(parts) == 1 else np.vstack(parts)

    async def ping(self) -> None:
        """One tiny embedding request; raises ``Unavailable`` if the endpoint fails."""
        await self.embed(["ping"])

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.aclose()

    async def _embed_chunk(self, texts: list[str]) -> Vectors:
        payload: dict[str, object] = {"model": self._model, "input": texts}
        if self._request_dimensions:
            payload["dimensions"] = self._dimensions
        response = await self._post(payload)
        try:
            body = response.json()
        except ValueError:
            raise self._unavailable("answered with a body that is not JSON") from None
        return self._parse(body, len(texts))

    async def _post(self, payload: dict[str, object]) -> httpx.Response:
        """POST once, and once more after a 5xx answer or a failed connection."""
        for attempt in (1, 2):
            last = attempt == 2
            try:
                response = await self._client.post(self._url, json=payload)
            except _RETRYABLE_ERRORS as exc:
                if last:
                    raise self._unavailable(f"could not be reached ({type(exc).__name__})") from exc
            except httpx.TimeoutException as exc:
                raise self._unavailable(f"timed out after {self._timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise self._unavailable(f"failed ({type(exc).__name__})") from exc
            else:
                if response.status_code < 400:
                    return response
                if response.status_code < 500 or last:
                    raise self._unavailable(
                        f"answered HTTP {response.status_code}{self._detail(response)}"
                    )
            await asyncio.sleep(RETRY_DELAY)
        raise AssertionError("unreachable")  # pragma: no cover

    def _parse(self, body: object, expected_rows: int) -> Vectors:
        """Check the ``data`` list, order it by ``index`` and L2-normalise the rows."""
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or len(data) != expected_rows:
            raise self._unavailable(f"did not return {expected_rows} embeddings in 'data'")
        rows: dict[int, object] = {}
        for item in data:
            index = item.get("index") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < expected_rows or index in rows:
                raise self._unavailable("returned embeddings with missing or invalid 'index'")
            rows[index] = item.get("embedding")
        try:
            matrix = np.array([rows[i] for i in range(expected_rows)], dtype=np.float32)
        except (TypeError, ValueError):
            raise self._unavailable("returned embeddings that are not lists of numbers") from None
        if matrix.ndim != 2 or matrix.shape[1] != self._dimensions:
            size = matrix.shape[1] if matrix.ndim == 2 else "irregular"
            raise self._unavailable(
                f"returned {size}-dimensional vectors for model {self._model!r}, "
                f"but the configured dimensions are {self._dimensions}"
            )
        if not np.isfinite(matrix).all():
            raise self._unavailable("returned embeddings with non-finite values")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: Vectors = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised

    def _detail(self, response: httpx.Response) -> str:
        """A short excerpt of an error answer, for the message."""
        text = response.text.strip().replace("\n", " ")
        return f": {text[:200]}" if text else ""

    def _unavailable(self, problem: str) -> Unavailable:
        message = f"the embedding server {self._where} {problem}"
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return Unavailable(message)
