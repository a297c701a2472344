"""The npm packages behind ``ort-node`` and ``ort-web``: where they live and how they get there.

The versions are pinned once, in ``js/package.json`` (with its lock file); ``setup_js_runtimes``
installs exactly those into a cache folder with ``npm ci``, and the runtimes look there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from onnxproof.errors import RuntimeUnavailable

#: The shipped node scripts, page and pinned package manifest.
JS_DIR = Path(__file__).parent / "js"
#: The command users run to install the packages (``setup_js_runtimes`` behind it).
SETUP_COMMAND = "onnxproof setup-runtimes"
#: Debian's chromium binary itself: ``/usr/bin/chromium`` is a shell wrapper that prints noise.
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_HINT = "apt-get install --no-install-recommends chromium"
#: The install script of onnxruntime-node fetches the CUDA provider from nuget; CPU needs none.
NPM_ENV = {"ONNXRUNTIME_NODE_INSTALL": "skip"}
NPM_COMMAND = ("npm", "ci", "--no-audit", "--no-fund")
_MANIFESTS = ("package.json", "package-lock.json")


@dataclass(frozen=True, kw_only=True)
class SetupResult:
    """What ``setup_js_runtimes`` left in the cache folder."""

    cache_dir: Path
    #: ``name@version`` of every pinned package now installed.
    packages: tuple[str, ...]
    #: False when the exact versions were already there and npm did not run.
    installed: bool
    #: The npm command line that ran (or would have run), with its environment.
    command: str
    seconds: float


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/onnxproof/js``, or ``~/.cache/onnxproof/js``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "onnxproof" / "js"


def pinned_packages() -> dict[str, str]:
    """name → exact version, as ``js/package.json`` pins them."""
    manifest = json.loads((JS_DIR / "package.json").read_text())
    return dict(manifest["dependencies"])


def installed_version(package: str, cache_dir: Path) -> str | None:
    """The version of ``package`` in the cache's node_modules, or None when it is not there."""
    manifest = cache_dir / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def missing_packages(cache_dir: Path, packages: Iterable[str]) -> list[str]:
    """``name@version`` of each pinned package absent from the cache or at another version."""
    pins = pinned_packages()
    return [
        f"{name}@{pins[name]}"
        for name in packages
        if installed_version(name, cache_dir) != pins[name]
    ]


def install_hint(cache_dir: Path | None = None) -> str:
    """What to run to get the pinned packages, naming them and where they go."""
    where = cache_dir or default_cache_dir()
    packages = " ".join(f"{n}@{v}" for n, v in pinned_packages().items())
    return f"run `{SETUP_COMMAND}` (npm installs {packages} into {where})"


def command_text() -> str:
    env = " ".join(f"{k}={v}" for k, v in NPM_ENV.items())
    return f"{env} {' '.join(NPM_COMMAND)}"


def setup_js_runtimes(cache_dir: Path | None = None, *, log: Callable[[str], None]) -> SetupResult:
    """Install the pinned npm packages into ``cache_dir`` unless exactly they are there already.

    npm works in a fresh sibling folder that replaces the cache only once it succeeded, so a
    failed or interrupted install never leaves a half-filled cache the runtimes would trust.
    """
    cache_dir = cache_dir or default_cache_dir()
    pins = pinned_packages()
    packages = tuple(f"{n}@{v}" for n, v in pins.items())
    started = time.perf_counter()
    if not missing_packages(cache_dir, pins) and _manifests_match(cache_dir):
        log(f"already installed in {cache_dir}: {', '.join(packages)}")
        return SetupResult(
            cache_dir=cache_dir,
            packages=packages,
            installed=False,
            command=command_text(),
            seconds=time.perf_counter() - started,
        )
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeUnavailable(
            "node and npm are needed to install the JavaScript runtimes",
            hint="install Node.js 18 or later with npm (apt-get install nodejs npm)",
        )
    log(f"installing {', '.join(packages)} into {cache_dir} with `{command_text()}`")
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = cache_dir.parent / f".{cache_dir.name}.installing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for name in _MANIFESTS:
            shutil.copyfile(JS_DIR / name, staging / name)
        done = subprocess.run(
            [npm, *NPM_COMMAND[1:]],
            cwd=staging,
            env={**os.environ, **NPM_ENV},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise RuntimeUnavailable(
                f"`{command_text()}` failed with exit code {done.returncode}: {tail[:600]}",
                hint="check that the npm registry can be reached (npm config get registry), "
                f"then run `{SETUP_COMMAND}` again",
            )
        _replace(staging, cache_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - started
    log(f"installed {', '.join(packages)} in {seconds:.1f} s")
    return SetupResult(
        cache_dir=cache_dir,
        packages=packages,
        installed=True,
        command=command_text(),
        seconds=seconds,
    )


def _manifests_match(cache_dir: Path) -> bool:
    """The cache was installed from this release's manifests (a changed lock means reinstall)."""
    try:
        return all((cache_dir / n).read_bytes() == (JS_DIR / n).read_bytes() for n in _MANIFESTS)
    except OSError:
        return False


def _replace(staging: Path, cache_dir: Path) -> None:
    """Swap the finished install in; the old cache moves aside first, then goes."""
    old = cache_dir.parent / f".{cache_dir.name}.old-{os.getpid()}"
    if cache_dir.exists():
        cache_dir.rename(old)
    staging.rename(cache_dir)
    shutil.rmtree(old, ignore_errors=True)
