"""Creates and caches one virtual environment per peer under the project's .bench/venvs/."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from .peers import BENCH_DIR, PROJECT_ROOT, PYTHON_TAG, Peer

VENVS_DIR = BENCH_DIR / f"venvs{PYTHON_TAG}"
MARKER = "bench-installed.json"


def venv_python(peer: Peer) -> Path:
    return VENVS_DIR / peer.id / "bin" / "python"


def install_fingerprint(peer: Peer) -> str:
    """Changes when the peer's requirements change, or, for ours, when pyproject.toml does."""
    text = json.dumps(peer.requirements)
    if "-e" in peer.requirements:
        text += (PROJECT_ROOT / "pyproject.toml").read_text()
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_venv(peer: Peer, log: Path) -> Path:
    """The peer's interpreter, creating the venv and installing the peer on first use.

    Raises:
        subprocess.CalledProcessError: venv creation or pip install failed (output in `log`).
    """
    root = VENVS_DIR / peer.id
    marker = root / MARKER
    fingerprint = install_fingerprint(peer)
    if marker.exists() and json.loads(marker.read_text()).get("fingerprint") == fingerprint:
        byte_compile_editable(peer)
        return venv_python(peer)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as output:
        if not venv_python(peer).exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(root)],
                check=True,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if peer.requirements:
            subprocess.run(
                [str(venv_python(peer)), "-m", "pip", "install", "-q", *peer.requirements],
                check=True,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
    marker.write_text(json.dumps({"fingerprint": fingerprint}))
    byte_compile_editable(peer)
    return venv_python(peer)


def byte_compile_editable(peer: Peer) -> None:
    """Byte-compile the project's packages for an editable peer (ours), on every run.

    pip byte-compiles the modules of the peers it installs; an editable install runs
    from the sources, and under PYTHONDONTWRITEBYTECODE=1 every fresh interpreter would
    compile them again: the startup rows would time our compiler (about 40 ms of a
    240 ms import, measured with -X importtime) instead of our import. compileall only
    rewrites stale files.
    """
    if "-e" not in peer.requirements:
        return
    packages = [str(PROJECT_ROOT / name) for name in ("aioclock_core", "clocktui")]
    subprocess.run(
        [str(venv_python(peer)), "-m", "compileall", "-q", *packages],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def installed_version(python: Path, distribution: str | None) -> str:
    """The distribution's version inside a venv, or the interpreter's for the floor peer."""
    code = (
        f"import importlib.metadata as m; print(m.version({distribution!r}))"
        if distribution
        else "import platform; print('Python ' + platform.python_version())"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"
