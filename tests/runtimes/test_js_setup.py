"""Installing the pinned npm packages, and the hints the JavaScript runtimes give when not."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from onnxproof.errors import RuntimeUnavailable
from onnxproof.runtimes import js_setup
from onnxproof.runtimes.ort_node import OrtNode
from onnxproof.runtimes.ort_web import OrtWeb

PINS = {"onnxruntime-node": "1.30.0", "onnxruntime-web": "1.30.0", "playwright-core": "1.65.1"}


def test_versions_are_pinned_exactly_with_a_lock_file() -> None:
    assert js_setup.pinned_packages() == PINS
    lock = json.loads((js_setup.JS_DIR / "package-lock.json").read_text())
    for name, version in PINS.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert lock["packages"][""]["dependencies"] == PINS


def test_default_cache_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert js_setup.default_cache_dir() == tmp_path / "onnxproof" / "js"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert js_setup.default_cache_dir() == tmp_path / "home" / ".cache" / "onnxproof" / "js"


def test_missing_packages_are_named_with_the_command_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    found = OrtNode.availability()
    assert not found.available
    assert "onnxruntime-node@1.30.0 not found" in str(found.install_hint)
    assert "run `onnxproof setup-runtimes`" in str(found.install_hint)
    assert str(tmp_path / "onnxproof" / "js") in str(found.install_hint)


def test_a_stale_version_counts_as_missing(tmp_path: Path) -> None:
    manifest = tmp_path / "node_modules" / "onnxruntime-node" / "package.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"version": "1.29.0"}))
    assert js_setup.missing_packages(tmp_path, ["onnxruntime-node"]) == ["onnxruntime-node@1.30.0"]
    manifest.write_text(json.dumps({"version": "1.30.0"}))
    assert js_setup.missing_packages(tmp_path, ["onnxruntime-node"]) == []


def test_without_node_the_hint_says_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    found = OrtNode.availability()
    assert not found.available
    assert "install Node.js" in str(found.install_hint)
    assert "onnxproof setup-runtimes" in str(found.install_hint)


def test_without_chromium_ort_web_says_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(js_setup, "CHROMIUM", tmp_path / "no-chromium")
    found = OrtWeb.availability()
    assert not found.available
    assert "apt-get install --no-install-recommends chromium" in str(found.install_hint)


def test_an_installed_cache_is_left_alone() -> None:
    cache = js_setup.default_cache_dir()
    if js_setup.missing_packages(cache, PINS):
        pytest.skip(f"the JavaScript runtimes are not installed in {cache}")
    before = (cache / "node_modules").stat().st_mtime_ns
    messages: list[str] = []
    result = js_setup.setup_js_runtimes(log=messages.append)
    assert not result.installed
    assert result.packages == tuple(f"{n}@{v}" for n, v in PINS.items())
    assert messages == [f"already installed in {cache}: {', '.join(result.packages)}"]
    assert (cache / "node_modules").stat().st_mtime_ns == before


def test_a_failed_install_leaves_the_old_cache_and_no_debris(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An npm that fails the way an unreachable registry makes it fail.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, script in {
        "npm": "#!/bin/sh\necho 'npm error code ENOTFOUND' >&2\nexit 1\n",
        "node": "#!/bin/sh\nexit 0\n",
    }.items():
        (bin_dir / tool).write_text(script)
        (bin_dir / tool).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", str(bin_dir))
    cache = tmp_path / "cache" / "js"
    cache.mkdir(parents=True)
    (cache / "old").write_text("kept")
    messages: list[str] = []
    with pytest.raises(
        RuntimeUnavailable, match="failed with exit code 1: npm error code ENOTFOUND"
    ):
        js_setup.setup_js_runtimes(cache, log=messages.append)
    assert messages[0].startswith("installing onnxruntime-node@1.30.0, onnxruntime-web@1.30.0, ")
    assert "`ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund`" in messages[0]
    assert (cache / "old").read_text() == "kept"
    assert os.listdir(cache.parent) == ["js"]


def test_without_npm_setup_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeUnavailable, match="node and npm are needed") as caught:
        js_setup.setup_js_runtimes(tmp_path / "js", log=lambda _: None)
    assert "apt-get install nodejs npm" in str(caught.value.hint)
    assert not (tmp_path / "js").exists()


def test_a_finished_install_replaces_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An npm that writes what `npm ci` writes for these manifests, and records how it was called.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    lines = ["#!/bin/sh", 'echo "$ONNXRUNTIME_NODE_INSTALL $*" > "$CALLS"']
    for name, version in PINS.items():
        lines.append(f"mkdir -p node_modules/{name}")
        lines.append(f'echo \'{{"version": "{version}"}}\' > node_modules/{name}/package.json')
    (bin_dir / "npm").write_text("\n".join(lines) + "\n")
    (bin_dir / "node").write_text("#!/bin/sh\n")
    for tool in ("npm", "node"):
        (bin_dir / tool).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("CALLS", str(tmp_path / "calls"))
    cache = tmp_path / "cache" / "js"
    cache.mkdir(parents=True)
    (cache / "stale").write_text("from an older release")
    result = js_setup.setup_js_runtimes(cache, log=lambda _: None)
    assert result.installed
    assert (tmp_path / "calls").read_text() == "skip ci --no-audit --no-fund\n"
    assert js_setup.missing_packages(cache, PINS) == []
    assert not (cache / "stale").exists()
    assert os.listdir(cache.parent) == ["js"]
    again = js_setup.setup_js_runtimes(cache, log=lambda _: None)
    assert not again.installed  # the manifests and versions match: npm does not run again
