"""onnxruntime-web (wasm, one thread) in headless Debian Chromium, driven by playwright-core from
a node process of its own, one per loaded model."""

from __future__ import annotations

from pathlib import Path

from onnxproof.runtimes import js_setup
from onnxproof.runtimes._base import Availability, Runtime, Session
from onnxproof.runtimes._js_worker import JsWorkerSession, worker_script
from onnxproof.runtimes.ort_node import LIMITS, node_availability


def external_data_files(model_path: str) -> list[str]:
    """The external-data files the model names, relative to its folder: the page must be told
    of them (a browser session cannot look beside the file by itself)."""
    import onnx
    from onnx.external_data_helper import uses_external_data

    model = onnx.load(model_path, load_external_data=False)
    files = []
    for tensor in model.graph.initializer:
        if uses_external_data(tensor):
            location = next(e.value for e in tensor.external_data if e.key == "location")
            if location not in files:
                files.append(location)
    return files


class OrtWeb(Runtime):
    """ONNX Runtime Web, the wasm backend, as a browser page runs it."""

    name = "ort-web"
    packages = ["onnxruntime-web", "playwright-core"]

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        chromium: Path = js_setup.CHROMIUM,
        timeout_s: float = 60.0,
        load_timeout_s: float = 120.0,
    ) -> None:
        self.cache_dir = cache_dir or js_setup.default_cache_dir()
        self.chromium = chromium
        #: Limit on one inference; a worker that exceeds it is stopped with its browser.
        self.timeout_s = timeout_s
        self.load_timeout_s = load_timeout_s

    @classmethod
    def availability(cls) -> Availability:
        found = node_availability(cls.packages)
        if js_setup.CHROMIUM.exists():
            return found
        browser = f"Chromium not found at {js_setup.CHROMIUM}: {js_setup.CHROMIUM_HINT}"
        hint = browser if found.available else f"{found.install_hint}; {browser}"
        return Availability(available=False, install_hint=hint)

    def load(self, model_path: str) -> Session:
        path = Path(model_path).resolve()
        return JsWorkerSession(
            runtime=self.name,
            command=[
                str(worker_script("ort_web_worker.js")),
                "--cache",
                str(self.cache_dir),
                "--chromium",
                str(self.chromium),
            ],
            load_request={
                "op": "load",
                "model": str(path),
                "external": external_data_files(str(path)),
            },
            timeout_s=self.timeout_s,
            load_timeout_s=self.load_timeout_s,
            details=dict(LIMITS),
            timed_in="inside the browser page",
        )
