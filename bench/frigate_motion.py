"""Frigate's own motion detector, loaded unmodified from a checkout the user gives.

    git clone https://github.com/blakeblackshear/frigate /somewhere/frigate
    python bench/motion.py --frigate /somewhere/frigate ...

The detector module (`frigate/motion/improved_motion.py`) and the modules it
really needs run as Frigate ships them: the detector base class
(`frigate/motion/__init__.py`), the motion configuration with its defaults
(`frigate/config/camera/motion.py`, `mask.py`, `base.py`) and the contour
helper (`frigate/util/image.py`). Only what would drag in the rest of Frigate
is stubbed, none of it detector logic:

- `frigate.config.config.RuntimeMotionConfig`: Frigate's `MotionConfig` (real
  defaults) plus the rasterised mask its runtime class adds; with no masks
  configured Frigate's is all 255, and so is ours.
- `frigate.camera.PTZMetrics`: only used for PTZ autotracking; we pass None.
- the package `__init__`s of `frigate`, `frigate.config`, `frigate.util`
  (they import the whole application); and `unidecode` when it is missing
  (`util/image.py` imports it for text helpers the detector never calls).

Frigate needs scipy (`pip install scipy`, or `pip install -e .[bench]`).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vision.motion import Box, MotionResult


def _package_root(path: Path) -> Path:
    """The directory that holds the `frigate` package, from any path the user may give."""
    path = path.resolve()
    for candidate in [path, *path.parents]:
        if (candidate / "frigate" / "motion" / "improved_motion.py").is_file():
            return candidate
        if candidate.name == "frigate" and (candidate / "motion" / "improved_motion.py").is_file():
            return candidate.parent
    raise SystemExit(f"no frigate/motion/improved_motion.py at or above {path}")


def _load(name: str, file: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _package(name: str, directory: Path) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = [str(directory)]
    sys.modules[name] = module
    return module


class FrigateModules:
    """Frigate's detector class and its motion configuration, loaded from a checkout."""

    def __init__(self, path: Path) -> None:
        root = _package_root(path) / "frigate"
        self.root = root
        _package("frigate", root)
        config_pkg = _package("frigate.config", root / "config")
        _package("frigate.config.camera", root / "config" / "camera")
        _package("frigate.util", root / "util")
        _load("frigate.config.base", root / "config" / "base.py")
        _load("frigate.config.camera.mask", root / "config" / "camera" / "mask.py")
        motion_cfg = _load("frigate.config.camera.motion", root / "config" / "camera" / "motion.py")
        self.MotionConfig: Any = motion_cfg.MotionConfig
        config_pkg.MotionConfig = self.MotionConfig  # type: ignore[attr-defined]

        class RuntimeMotionConfig(self.MotionConfig):  # type: ignore[name-defined,misc]
            """Frigate's MotionConfig plus an all-watched rasterised mask (no masks set)."""

            model_config = {"arbitrary_types_allowed": True, "extra": "ignore"}
            rasterized_mask: Any = None

            def __init__(self, **config: Any) -> None:
                shape = config.pop("frame_shape", (1, 1))
                super().__init__(**config)
                self.rasterized_mask = np.full(shape, 255, np.uint8)

        runtime = types.ModuleType("frigate.config.config")
        runtime.RuntimeMotionConfig = RuntimeMotionConfig  # type: ignore[attr-defined]
        sys.modules["frigate.config.config"] = runtime
        self.RuntimeMotionConfig = RuntimeMotionConfig
        camera = types.ModuleType("frigate.camera")
        camera.PTZMetrics = type("PTZMetrics", (), {})  # type: ignore[attr-defined]
        sys.modules["frigate.camera"] = camera
        try:
            import unidecode  # noqa: F401
        except ImportError:
            stub = types.ModuleType("unidecode")
            stub.unidecode = lambda text: text  # type: ignore[attr-defined]
            sys.modules["unidecode"] = stub
        _load("frigate.util.image", root / "util" / "image.py")
        _load("frigate.motion", root / "motion" / "__init__.py")
        improved = _load("frigate.motion.improved_motion", root / "motion" / "improved_motion.py")
        self.ImprovedMotionDetector: Any = improved.ImprovedMotionDetector


class FrigateDetector:
    """Frigate's ImprovedMotionDetector with its default configuration, fed grey frames.

    Frigate hands its detector the Y plane of the detect stream; a grey frame is
    exactly that. It is built on the first frame (it needs the frame shape).
    """

    def __init__(self, modules: FrigateModules, fps: int = 5, **overrides: Any) -> None:
        self.modules = modules
        self.fps = fps
        self.overrides = overrides
        self._detector: Any = None
        self._shape: tuple[int, int] = (0, 0)

    def detect(self, frame: np.ndarray) -> MotionResult:
        """Feed one frame; Frigate's motion boxes as frame fractions."""
        grey = frame if frame.ndim == 2 else frame[..., 1]  # callers pass grey; be safe
        shape = (grey.shape[0], grey.shape[1])
        if self._detector is None or shape != self._shape:
            self._shape = shape
            config = self.modules.RuntimeMotionConfig(frame_shape=shape, **self.overrides)
            self._detector = self.modules.ImprovedMotionDetector(shape, config, self.fps)
        h, w = shape
        boxes: list[Box] = []
        for x0, y0, x1, y1 in self._detector.detect(grey):
            x0, y0 = max(0, x0), max(0, y0)
            x1, y1 = min(w, x1), min(h, y1)
            if x1 > x0 and y1 > y0:
                boxes.append((x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h))
        area = sum(b[2] * b[3] for b in boxes)
        return MotionResult(bool(boxes), min(area, 1.0), tuple(boxes))
