"""ort-node and ort-web on real exports: parity with ONNX Runtime CPU, int64, refused dtypes, and
a worker that crashes, exits or hangs being an error the parent survives."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import onnxproof
from onnxproof import runtimes
from onnxproof.errors import DataError
from onnxproof.runtimes import Session
from onnxproof.runtimes._js_worker import WorkerError
from onnxproof.runtimes.ort_node import OrtNode
from onnxproof.runtimes.ort_web import OrtWeb
from tests import models

JS_RUNTIMES = ["ort-node", "ort-web"]


def needs(name: str) -> None:
    """Skip, saying what to install, when the runtime cannot run here."""
    found = runtimes.runtime_class(name).availability()
    if not found.available:
        pytest.skip(f"{name} is not available: {found.install_hint}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The ONNX file of a named test model, exported once by onnxproof."""
    folder = tmp_path_factory.mktemp("js-models")
    made: dict[str, Path] = {}
    recipes: dict[str, tuple[Callable[[], nn.Module], list[str]]] = {
        "simple": (models.SimpleNet, ["input:float32[batch,10]"]),
        "cnn": (lambda: models.with_trained_stats(models.SmallCNN()), ["x:float32[batch,3,32,32]"]),
        "embedding": (models.TwoInputs, ["ids:int64[batch,seq]", "mask:float32[batch,seq]"]),
    }

    def get(name: str) -> Path:
        if name not in made:
            factory, inputs = recipes[name]
            torch.manual_seed(0)
            path = folder / f"{name}.onnx"
            onnxproof.export(factory(), inputs=inputs, output=path)
            made[name] = path
        return made[name]

    return get


@pytest.fixture(scope="module")
def session(exported: Callable[[str], Path]) -> Iterator[Callable[[str, str], Session]]:
    """One session per (runtime, model), shared by the tests of this module: each web session
    starts a browser."""
    opened: dict[tuple[str, str], Session] = {}

    def get(runtime: str, model: str) -> Session:
        needs(runtime)
        if (runtime, model) not in opened:
            opened[runtime, model] = runtimes.get(runtime).load(str(exported(model)))
        return opened[runtime, model]

    yield get
    for each in opened.values():
        each.close()


def _ort_cpu(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with runtimes.get("ort-cpu").load(str(path)) as reference:
        return reference.infer(feeds)


def _feeds(model: str, batch: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(batch)
    if model == "simple":
        x = rng.standard_normal((batch, 10)).astype(np.float32)
        x[0, 0], x[-1, 1] = np.nan, np.inf  # both must survive the trip into node and the page
        return {"input": x}
    if model == "cnn":
        return {"x": rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)}
    ids = rng.integers(0, 50, size=(batch, 6), dtype=np.int64)
    return {"ids": ids, "mask": rng.random((batch, 6)).astype(np.float32)}


@pytest.mark.parametrize("runtime", JS_RUNTIMES)
@pytest.mark.parametrize("model", ["simple", "cnn", "embedding"])
def test_agrees_with_onnxruntime_cpu(
    runtime: str,
    model: str,
    session: Callable[[str, str], Session],
    exported: Callable[[str], Path],
) -> None:
    js = session(runtime, model)
    for batch in (1, 7):  # one loaded model, several calls, a dynamic batch
        feeds = _feeds(model, batch)
        expected = _ort_cpu(exported(model), feeds)
        actual = js.infer(feeds)
        assert actual.keys() == expected.keys()
        for name, want in expected.items():
            got = actual[name]
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, equal_nan=True)
    if model == "simple":
        assert np.isnan(actual["output"][0]).all()  # the NaN fed in came back as NaN


@pytest.mark.parametrize("runtime", JS_RUNTIMES)
def test_a_feed_of_another_dtype_is_refused(
    runtime: str, session: Callable[[str, str], Session]
) -> None:
    js = session(runtime, "simple")
    with pytest.raises(DataError, match="'input' is float64 but the model declares float32"):
        js.infer({"input": np.zeros((2, 10), dtype=np.float64)})
    with pytest.raises(DataError, match="'ids' is int32 but the model declares int64"):
        session(runtime, "embedding").infer(
            {"ids": np.zeros((1, 6), dtype=np.int32), "mask": np.ones((1, 6), dtype=np.float32)}
        )
    assert js.infer({"input": np.zeros((2, 10), dtype=np.float32)})["output"].shape == (2, 3)


@pytest.mark.parametrize("runtime", JS_RUNTIMES)
def test_every_dtype_crosses_bit_for_bit(runtime: str, tmp_path: Path) -> None:
    """Extremes the JSON numbers of a naive protocol would lose: int64 past 2**53, NaN, Inf, -0."""
    import onnx
    from onnx import helper

    needs(runtime)
    values = {
        "f32": np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45], dtype=np.float32),
        "f64": np.array([np.nan, -np.inf, 2.0**-1074], dtype=np.float64),
        "f16": np.array([np.nan, np.inf, 65504.0, -0.0], dtype=np.float16),
        "i64": np.array([[2**62 + 1, -(2**63), 2**63 - 1]], dtype=np.int64),
        "u8": np.array([0, 255], dtype=np.uint8),
        "i32": np.array([-(2**31), 2**31 - 1], dtype=np.int32),
        "b": np.array([[True, False], [False, True]]),
        "scalar": np.array(3.5, dtype=np.float32),
    }
    nodes, inputs, outputs = [], [], []
    for name, array in values.items():
        elem = helper.np_dtype_to_tensor_dtype(array.dtype)
        nodes.append(helper.make_node("Identity", [name], [f"{name}_out"]))
        inputs.append(helper.make_tensor_value_info(name, elem, list(array.shape)))
        outputs.append(helper.make_tensor_value_info(f"{name}_out", elem, list(array.shape)))
    graph = helper.make_graph(nodes, "identities", inputs, outputs)
    path = tmp_path / "identities.onnx"
    opset = [helper.make_opsetid("", 18)]
    onnx.save(helper.make_model(graph, opset_imports=opset, ir_version=10), str(path))
    with runtimes.get(runtime).load(str(path)) as js:
        got = js.infer(values)
    for name, array in values.items():
        out = got[f"{name}_out"]
        assert out.dtype == array.dtype and out.shape == array.shape, name
        assert out.tobytes() == array.tobytes(), name


def test_details_name_the_package_and_the_browser(session: Callable[[str, str], Session]) -> None:
    node = session("ort-node", "simple").details()
    assert node["package"] == "onnxruntime-node 1.30.0"
    assert node["max opset"] == "ai.onnx 26"
    web = session("ort-web", "simple").details()
    assert web["package"] == "onnxruntime-web 1.30.0"
    assert web["browser"].startswith("Chromium ")
    assert web["backend"] == "wasm, 1 thread(s), cross-origin isolated: true"


@pytest.mark.parametrize(
    ("runtime", "where"),
    [("ort-node", "inside the node process"), ("ort-web", "inside the browser page")],
)
def test_latency_is_timed_where_the_runtime_runs(
    runtime: str, where: str, session: Callable[[str, str], Session]
) -> None:
    """The clock runs in node or in the page: the trip from Python (JSON, base64, playwright) is
    left out, so a timed call is faster than the same call made from Python."""
    opened = session(runtime, "simple")
    feeds = _feeds("simple", 1)
    seconds, timed_in = opened.time_calls(feeds, warmup=3, iterations=40, budget_s=0.0)
    assert timed_in == f"{where}, around session.run"
    assert len(seconds) == 40 and all(s >= 0 for s in seconds)
    round_trips = []
    for _ in range(15):
        begin = time.perf_counter()
        opened.infer(feeds)
        round_trips.append(time.perf_counter() - begin)
    assert np.median(seconds) < np.median(round_trips)


@pytest.mark.parametrize("runtime", JS_RUNTIMES)
def test_a_killed_worker_is_an_error_the_parent_survives(
    runtime: str, exported: Callable[[str], Path], session: Callable[[str, str], Session]
) -> None:
    needs(runtime)
    path = str(exported("simple"))
    feeds = {"input": np.ones((1, 10), dtype=np.float32)}
    with runtimes.get(runtime).load(path) as js:
        os.kill(js.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        with pytest.raises(WorkerError, match=rf"{runtime}: node crashed \(signal 9, SIGKILL\)"):
            js.infer(feeds)
        with pytest.raises(WorkerError, match="crashed"):  # and stays an error, not a hang
            js.infer(feeds)
    _gone(js.pid)  # type: ignore[attr-defined]
    # This process is fine, and so are the other workers.
    assert session(runtime, "simple").infer(feeds)["output"].shape == (1, 3)


@pytest.mark.parametrize("runtime", JS_RUNTIMES)
def test_a_hung_worker_is_stopped_after_the_timeout(
    runtime: str, exported: Callable[[str], Path]
) -> None:
    needs(runtime)
    # Larger than a pipe holds: sending it to a stopped worker blocks, and must time out too.
    feeds = {"x": np.zeros((64, 3, 32, 32), dtype=np.float32)}
    js = runtimes.get(runtime, timeout_s=0.5).load(str(exported("cnn")))
    with js:
        os.kill(js.pid, signal.SIGSTOP)  # type: ignore[attr-defined]  # alive, never answers
        started = time.monotonic()
        with pytest.raises(WorkerError, match=rf"{runtime} did not answer within 0\.5 s \(run\)"):
            js.infer(feeds)
        assert time.monotonic() - started < 5
        with pytest.raises(WorkerError, match="did not answer"):
            js.infer(feeds)
    _gone(js.pid)  # type: ignore[attr-defined]


def test_a_worker_that_exits_gives_its_code_and_last_words(
    tmp_path: Path, exported: Callable[[str], Path]
) -> None:
    needs("ort-node")
    empty_cache = tmp_path / "no-packages"
    empty_cache.mkdir()
    with pytest.raises(WorkerError, match="ort-node: node exited with code 1: .*onnxruntime-node"):
        OrtNode(cache_dir=empty_cache).load(str(exported("simple")))


@pytest.mark.parametrize("runtime", JS_RUNTIMES)
def test_a_later_opset_than_ort_1_30_knows_is_a_load_error(runtime: str, tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    needs(runtime)
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    path = tmp_path / "opset27.onnx"
    opset = [helper.make_opsetid("", 27)]
    onnx.save(helper.make_model(graph, opset_imports=opset, ir_version=10), str(path))
    with pytest.raises(WorkerError, match="till opset 26"):
        runtimes.get(runtime).load(str(path))
    if runtime == "ort-web":
        return  # the same ONNX Runtime core decides; one browser start is enough
    # onnx's own default IR version is past what ORT 1.30 reads: a load error as well.
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    with pytest.raises(WorkerError, match="max supported IR version: 13"):
        runtimes.get(runtime).load(str(path))


def test_ort_web_without_its_browser_says_so(
    tmp_path: Path, exported: Callable[[str], Path]
) -> None:
    needs("ort-web")
    with pytest.raises(WorkerError, match="chromium because executable doesn't exist at"):
        OrtWeb(chromium=tmp_path / "chromium").load(str(exported("simple")))


def _gone(pid: int) -> None:
    """Nothing of the worker's process group is left running (the browser went with it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"processes of group {pid} are still running")
