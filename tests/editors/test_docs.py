"""The README's editor section cannot drift from the example configs: each snippet marked
`<!-- file: PATH -->` must be that file, and every setting of the server must be in its table.
Until the README carries the section, its source (examples/editors/README-section.md) is read."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import fields
from pathlib import Path

from server.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "editors"
SECTION = EXAMPLES / "README-section.md"
MARKER = "<!-- file: "
SNIPPET = re.compile(r"^<!-- file: (\S+) -->\n```[\w-]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def document() -> tuple[Path, str]:
    readme = REPO / "README.md"
    if readme.exists() and MARKER + "examples/editors/" in readme.read_text():
        return readme, readme.read_text()
    return SECTION, SECTION.read_text()


def normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_snippets_are_the_example_files() -> None:
    path, text = document()
    snippets = SNIPPET.findall(text)
    assert len(snippets) == text.count(MARKER), f"{path.name}: a file marker without a snippet"
    shown = {name for name, _ in snippets}
    must = {"helix-languages.toml", "emacs-eglot.el", "emacs-lsp-mode.el"}
    assert {f"examples/editors/{name}" for name in must} <= shown
    configs = {f"examples/editors/{p.name}" for p in EXAMPLES.iterdir() if p != SECTION}
    assert shown == configs, (
        f"{path.name} shows {sorted(shown)}; the examples are {sorted(configs)}"
    )
    for name, body in snippets:
        assert normal(body) == normal((REPO / name).read_text()), f"{path.name}: {name} differs"


def test_every_setting_is_documented_with_its_default() -> None:
    path, text = document()
    for f in fields(Settings):
        row = f"| `{f.name}` | `{json.dumps(getattr(Settings(), f.name))}` |"
        assert row in text, f"{path.name} lacks the settings row {row}"


def test_helix_config_declares_the_server_for_python() -> None:
    config = tomllib.loads((EXAMPLES / "helix-languages.toml").read_text())
    server = config["language-server"]["lstm-complete"]
    assert [server["command"], *server["args"]] == ["lstm-complete", "serve", "--stdio"]
    assert set(server["config"]) <= {f.name for f in fields(Settings)}
    [python] = [lang for lang in config["language"] if lang["name"] == "python"]
    assert "lstm-complete" in python["language-servers"]
