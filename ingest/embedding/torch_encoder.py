"""The embedding model on torch, for GPUs: large half-precision batches, chunk and sentence vectors in one pass.

The model's token states are pooled on the device (one batched matrix product per batch), so only
the vectors cross back to the host: a batch of 1,024 chunks moves 1,024 x (1 + sentences) vectors,
not a quarter of a million token states. On the CPU ingest uses onnxruntime instead
(ingest/embedding/onnx_encoder.py); this encoder also runs there, in float32, which is how its tests check
it against sentence-transformers on a machine without a GPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.embedding.devices import check_device
from ingest.embedding.encoder import PoolingEmbedder
from ingest.errors import IngestError

if TYPE_CHECKING:
    import numpy as np


class TorchBackend:
    """A transformers model on ``device``; returns pooled rows of its last token states."""

    def __init__(self, model_dir: Path, device: str, half: bool) -> None:
        import torch  # here: only a GPU ingest (or its tests) load torch
        from transformers import AutoModel

        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            model = AutoModel.from_pretrained(str(model_dir))
            model = model.to(device).eval()
            if half:
                model = model.half()
        except (OSError, ValueError, RuntimeError) as exc:
            raise IngestError(
                f"cannot load the embedding model on {device}: {str(exc).splitlines()[0][:160]}"
            ) from None
        self.name = f"torch:{device}"
        self._torch = torch
        self._model = model
        self._device = device

    def pooled(self, ids: np.ndarray, mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            input_ids = torch.from_numpy(ids).to(self._device, non_blocking=True)
            attention = torch.from_numpy(mask).to(self._device, non_blocking=True)
            states = self._model(
                input_ids=input_ids, attention_mask=attention, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            rows = torch.from_numpy(weights).to(self._device, dtype=states.dtype, non_blocking=True)
            return torch.bmm(rows, states).float().cpu().numpy()  # type: ignore[no-any-return]


class TorchEmbedder(PoolingEmbedder):
    """Embeds with a transformers model on a GPU (or any torch device); loaded on first use, thread-safe.

    Vectors are the sentence-transformers model's (mean pooled, normalised); in half precision
    they differ from float32 in the fourth decimal of their cosines.
    """

    MAX_BATCH_FACTOR = 4

    def __init__(
        self,
        model: str,
        device: str,
        *,
        half: bool,
        batch_size: int,
        device_problem: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(model, batch_size)
        self.device = device
        self.half = half
        self._device_problem = device_problem

    def _backend(self, model_dir: Path) -> TorchBackend:
        check_device(self.device, self._device_problem)
        return TorchBackend(model_dir, self.device, self.half)
