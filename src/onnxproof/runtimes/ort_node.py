"""onnxruntime-node (the npm package, CPU) in a node process of its own, one per loaded model."""

from __future__ import annotations

import shutil
from pathlib import Path

from onnxproof.runtimes import js_setup
from onnxproof.runtimes._base import Availability, Runtime, Session
from onnxproof.runtimes._js_worker import JsWorkerSession, worker_script

#: What the pinned ONNX Runtime 1.30 reads. A file past either is rejected at load ("Current
#: official support for domain ai.onnx is till opset 26", "max supported IR version: 13"), which the
#: run reports as the file not running there.
MAX_OPSET = 26
MAX_IR_VERSION = 13
LIMITS = {"max opset": f"ai.onnx {MAX_OPSET}", "max IR version": str(MAX_IR_VERSION)}
NODE_HINT = "install Node.js 18 or later with npm (apt-get install nodejs npm)"


def node_availability(packages: list[str]) -> Availability:
    """Node on PATH and the pinned ``packages`` in the cache; the hint says what to run if not."""
    cache_dir = js_setup.default_cache_dir()
    if shutil.which("node") is None:
        return Availability(
            available=False,
            install_hint=f"{NODE_HINT}, then {js_setup.install_hint(cache_dir)}",
        )
    missing = js_setup.missing_packages(cache_dir, packages)
    if missing:
        return Availability(
            available=False,
            install_hint=f"{', '.join(missing)} not found: {js_setup.install_hint(cache_dir)}",
        )
    return Availability(available=True, version=js_setup.installed_version(packages[0], cache_dir))


class OrtNode(Runtime):
    """ONNX Runtime for Node.js with the CPU execution provider."""

    name = "ort-node"
    package = "onnxruntime-node"

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        timeout_s: float = 60.0,
        load_timeout_s: float = 120.0,
    ) -> None:
        self.cache_dir = cache_dir or js_setup.default_cache_dir()
        #: Limit on one inference; a worker that exceeds it is stopped.
        self.timeout_s = timeout_s
        self.load_timeout_s = load_timeout_s

    @classmethod
    def availability(cls) -> Availability:
        return node_availability([cls.package])

    def load(self, model_path: str) -> Session:
        return JsWorkerSession(
            runtime=self.name,
            command=[str(worker_script("ort_node_worker.js")), "--cache", str(self.cache_dir)],
            load_request={"op": "load", "model": str(Path(model_path).resolve())},
            timeout_s=self.timeout_s,
            load_timeout_s=self.load_timeout_s,
            details={"execution provider": "cpu", **LIMITS},
        )
