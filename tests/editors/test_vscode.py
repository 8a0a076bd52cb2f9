"""The VS Code extension (client-vscode/ and the top-level package.json).

Its own checks (type-check, lint, unit tests), the manifest's settings against the server's, and
an end-to-end run in a real VS Code: code-server from the npm registry in Debian's Chromium,
driven by playwright-core (tests/editors/vscode/e2e.mjs), with the built .vsix installed, the real
server, and a tiny model trained here. Whatever is missing is installed; what cannot be fails
the test with the reason. Downloads and the model are kept in .cache/editor-tests/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import pytest

from server.settings import _CHOICES, _RANGES, Settings
from tests.editors.apt import ensure
from tests.editors.process import run_captured

REPO = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve().parent / "vscode"
CACHE = REPO / ".cache" / "editor-tests"
ARTIFACTS = REPO / "test-artifacts" / "vscode"

# Debian packages: the browser; ripgrep, whose binary seeds @vscode/ripgrep (below); and the
# headers code-server's native modules compile against (kerberos needs gssapi.h).
APT_PACKAGES = ["chromium", "ripgrep", "libkrb5-dev", "libxkbfile-dev", "libsecret-1-dev"]

# code-server 4.100.3 installs @vscode/ripgrep 1.15.11, whose postinstall downloads ripgrep
# v13.0.0-10 from GitHub, which these machines cannot reach; a tarball in its cache folder,
# holding Debian's rg, stands in for the download.
RIPGREP_CACHE = Path(tempfile.gettempdir()) / "vscode-ripgrep-cache-1.15.11"
RIPGREP_TARBALL = "ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"

# The workspace the model learns and the editor opens: code that repeats, so the model's
# suggestions continue it.
FUNCTIONS = """
def add_numbers(first_value, second_value):
    return first_value + second_value


def scale_numbers(first_value, second_value):
    return first_value * second_value

"""
WORKSPACE_FILES = {
    "alpha.py": FUNCTIONS * 40,
    "beta.py": FUNCTIONS * 40,
    "gamma.py": FUNCTIONS * 40,
    "main.py": "import math\n" + FUNCTIONS + "\n",
}
E2E_TEST = "test_end_to_end_in_code_server"

# The extension's own settings, which the server never sees.
EXTENSION_SETTINGS = {
    "lstmComplete.pythonPath",
    "lstmComplete.server.installSource",
    "lstmComplete.trace.server",
}
TRAIN_ARGS = ["--from-scratch", "--size", "tiny", "--steps", "150"]


def run(cmd: list[str | Path], cwd: Path = REPO, env: dict | None = None, timeout=600.0) -> str:
    """Runs a command; on failure, fails the test with its output."""
    shown = " ".join(map(str, cmd))
    try:
        done = run_captured(cmd, cwd=cwd, env=env, timeout=timeout, name=f"`{shown}`")
    except FileNotFoundError as err:
        pytest.fail(f"`{cmd[0]}` is not installed: {err}")
    if done.returncode != 0:
        pytest.fail(f"`{shown}` failed with exit status {done.returncode}:\n{done.stdout}")
    return done.stdout


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def npm_ci(folder: Path, env: dict[str, str] | None = None) -> None:
    """`npm ci` in `folder`, skipped while its package-lock.json is the one last installed."""
    stamp = folder / "node_modules" / ".lstm-complete-installed"
    want = digest((folder / "package-lock.json").read_bytes())
    if stamp.exists() and stamp.read_text() == want:
        return
    run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, env=env)
    stamp.write_text(want)


@pytest.fixture(scope="module")
def node_modules() -> None:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        pytest.fail("the VS Code extension needs Node.js 20 or newer with npm: not on PATH")
    major = int(run([node, "--version"]).strip().lstrip("v").split(".")[0])
    if major < 20:
        pytest.fail(f"Node.js 20 or newer is needed; this is {major}")
    npm_ci(REPO)


def test_typecheck(node_modules: None) -> None:
    run(["npm", "run", "typecheck"])


def test_lint(node_modules: None) -> None:
    run(["npm", "run", "lint"])


def test_unit(node_modules: None) -> None:
    out = run(["npm", "run", "test:unit"])
    assert re.search(r" pass [1-9]\d*$", out, re.MULTILINE), f"no unit test passed:\n{out}"


def test_manifest_mirrors_server_settings() -> None:
    """package.json contributes the server's settings: names, defaults, types, ranges, choices."""
    manifest = json.loads((REPO / "package.json").read_text())
    props = manifest["contributes"]["configuration"]["properties"]
    names = {f"lstmComplete.{f.name}" for f in fields(Settings)}
    assert set(props) == names | EXTENSION_SETTINGS
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
    kinds[type(None)] = "null"
    for f in fields(Settings):
        prop = props[f"lstmComplete.{f.name}"]
        default = getattr(Settings(), f.name)
        assert prop["default"] == default, f"{f.name}: default differs from the server's"
        declared = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert kinds[type(default)] in declared, f"{f.name}: type {declared} for {default!r}"
        assert (prop.get("minimum"), prop.get("maximum")) == _RANGES.get(f.name, (None, None))
        assert tuple(prop.get("enum", ())) == _CHOICES.get(f.name, ())


@pytest.fixture(scope="module")
def vsix(node_modules: None) -> Path:
    manifest = json.loads((REPO / "package.json").read_text())
    path = REPO / f"{manifest['name']}-{manifest['version']}.vsix"
    path.unlink(missing_ok=True)
    run(["npm", "run", "package"])
    assert path.is_file(), f"npm run package made no {path.name}"
    return path


def seed_ripgrep() -> None:
    tarball = RIPGREP_CACHE / RIPGREP_TARBALL
    if tarball.exists():
        return
    rg = shutil.which("rg")
    assert rg is not None, "ripgrep's rg should be on PATH after installing the Debian package"
    RIPGREP_CACHE.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial")
    with tarfile.open(partial, "w:gz") as tar:
        tar.add(rg, arcname="rg")
    partial.rename(tarball)


def install_editor() -> Path:
    """code-server and playwright-core, installed into the cache folder; returns that folder."""
    ensure("chromium", APT_PACKAGES)
    seed_ripgrep()
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HARNESS / name, CACHE / name)
    env = {
        **os.environ,
        "npm_config_unsafe_perm": "true",  # code-server's install script, run as root, asks for it
        "npm_config_yes": "true",  # node-pty's postinstall runs `npx node-gyp`, which would prompt
    }
    # Native modules compile against the machine's own Node headers: node-gyp cannot download any.
    if Path("/usr/include/node/node.h").exists():
        env["npm_config_nodedir"] = "/usr"
    npm_ci(CACHE, env)
    return CACHE


def write_workspace(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name, text in WORKSPACE_FILES.items():
        (folder / name).write_text(text)


def train_model() -> Path:
    """A tiny model trained by the real trainer on the test workspace; kept while both stay."""
    trainer = [p.read_bytes() for p in sorted((REPO / "trainer").glob("*.py"))]
    key = digest(json.dumps([WORKSPACE_FILES, TRAIN_ARGS]).encode(), *trainer)
    folder = CACHE / f"model-{key}"
    if (folder / "model.safetensors").exists():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        write_workspace(workspace)
        out = Path(tmp) / "model"
        run([sys.executable, "-m", "server", "train", str(workspace), *TRAIN_ARGS, "--out", out])
        CACHE.mkdir(parents=True, exist_ok=True)
        for stale in CACHE.glob("model-*"):
            shutil.rmtree(stale)
        shutil.move(out, folder)
    return folder


@pytest.fixture(scope="module", autouse=True)
def prerequisites(request: pytest.FixtureRequest) -> Iterator[dict[str, Future[Path]]]:
    """The editor's installation and the model's training, started in the background before the
    other tests, when the end-to-end test is to run: on a fresh machine each takes a minute or more.
    """
    if not any(item.name == E2E_TEST for item in request.session.items):
        yield {}
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {"editor": pool.submit(install_editor), "model": pool.submit(train_model)}


def test_the_extension_bundles_the_server(vsix: Path) -> None:
    """The Install action's default: the server as a wheel, with the versions it was tested with
    (an unpinned torch would pull gigabytes of CUDA packages)."""
    with zipfile.ZipFile(vsix) as archive:
        names = archive.namelist()
        pins = archive.read("extension/python/constraints.txt").decode()
    wheels = [n for n in names if re.fullmatch(r"extension/python/lstm_complete-.+\.whl", n)]
    assert len(wheels) == 1, names
    assert pins == (REPO / "constraints.txt").read_text() and "torch==" in pins


def test_end_to_end_in_code_server(
    vsix: Path, prerequisites: dict[str, Future[Path]], tmp_path: Path
) -> None:
    run([sys.executable, "-c", "import server.cli, trainer"])  # the python the server runs with
    editor, model = prerequisites["editor"].result(), prerequisites["model"].result()
    workspace = tmp_path / "workspace"
    write_workspace(workspace)
    bare = tmp_path / "bare-venv"  # a python without the server, for the install prompt
    run([sys.executable, "-m", "venv", "--without-pip", str(bare)])
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    config = {
        "codeServer": str(editor / "node_modules" / "code-server" / "out" / "node" / "entry.js"),
        "playwright": str(editor / "node_modules" / "playwright-core"),
        "chromium": shutil.which("chromium"),
        "vsix": str(vsix),
        "workspace": str(workspace),
        "python": sys.executable,
        "barePython": str(bare / "bin" / "python"),
        "model": str(model),
        "scratch": str(tmp_path / "scratch"),
        "artifacts": str(ARTIFACTS),
    }
    out = run(["node", str(HARNESS / "e2e.mjs"), json.dumps(config)], timeout=700)
    print(out)
    assert "e2e: every step passed" in out
