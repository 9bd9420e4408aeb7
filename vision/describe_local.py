"""The `transformers` describer: a local image-text-to-text model on this machine.

The model loads once, in a thread, on first use (downloading it then, with the
hub's progress bars on the console and the state on /api/health). One
generation runs at a time; the event loop never waits on torch.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from typing import Any

from vision.describe import PROMPT_SHORT, DescriberUnavailable, Description, Request, parse_reply

log = logging.getLogger(__name__)
DEFAULT_MODEL = "HuggingFaceTB/SmolVLM-256M-Instruct"


class TransformersDescriber:
    """AutoProcessor + AutoModelForImageTextToText, loaded lazily in a thread."""

    name = "transformers"

    def __init__(
        self, model: str = DEFAULT_MODEL, *, device: str = "cpu", max_new_tokens: int = 80
    ):
        self.model_id = model
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.state = "not loaded"
        self.error = ""
        self.load_seconds = 0.0
        self._processor: Any = None
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def _load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            try:
                import torch
                from transformers import AutoModelForImageTextToText, AutoProcessor
            except ImportError:
                self.state, self.error = (
                    "failed",
                    (
                        "the transformers describer needs the vision extra: "
                        "pip install 'homeclaw[vision]' (torch, transformers)"
                    ),
                )
                raise DescriberUnavailable(self.error) from None
            started = time.monotonic()
            self.state = "loading"
            log.info(
                "loading vision model %s (downloaded on first use; progress below)", self.model_id
            )
            try:
                processor = AutoProcessor.from_pretrained(self.model_id)
                image_processor = getattr(processor, "image_processor", None)
                if image_processor is not None and hasattr(image_processor, "do_image_splitting"):
                    # Tiling multiplies the work ~6x on a CPU for little gain in a snapshot.
                    image_processor.do_image_splitting = False
                model = AutoModelForImageTextToText.from_pretrained(
                    self.model_id, dtype=torch.float32 if self.device == "cpu" else "auto"
                )
                model.to(self.device).eval()  # type: ignore[arg-type]
            except Exception as err:  # hub, disk and format errors all mean "cannot load"
                self.state = "failed"
                self.error = (
                    f"cannot load vision model {self.model_id}: {type(err).__name__}: {err}"
                )
                log.error("%s", self.error)
                raise DescriberUnavailable(self.error) from None
            self._processor, self._model = processor, model
            self.load_seconds = time.monotonic() - started
            self.state, self.error = "ready", ""
            log.info("vision model %s ready in %.1f s", self.model_id, self.load_seconds)

    def _generate(self, request: Request) -> str:
        from PIL import Image

        self._load()
        images = [Image.open(io.BytesIO(data)).convert("RGB") for data in request.images[:1]]
        content: list[dict[str, Any]] = [{"type": "image"} for _ in images]
        content.append({"type": "text", "text": PROMPT_SHORT.format(camera=request.camera)})
        processor, model = self._processor, self._model
        prompt = processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True
        )
        inputs = processor(text=prompt, images=[images], return_tensors="pt").to(self.device)
        import torch

        with self._run_lock, torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        text: str = processor.batch_decode(new_tokens, skip_special_tokens=True)[0]
        return text

    async def load(self) -> None:
        """Load the model now (in a thread)."""
        await asyncio.to_thread(self._load)

    async def describe(self, request: Request) -> Description:
        """Describe the best keyframe with the local model."""
        if not request.images:
            raise DescriberUnavailable("no image to describe")
        text = await asyncio.to_thread(self._generate, request)
        return parse_reply(text, self.name)

    def status(self) -> dict[str, Any]:
        """Loading state for the health report."""
        return {
            "backend": self.name,
            "model": self.model_id,
            "status": self.state,
            "error": self.error,
            "load_seconds": round(self.load_seconds, 2),
        }
