import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import { bundledServer, checkServer, findServerPython, installServer, venvPython, type ServerCheck } from "../src/serverInstall";

const tmp = mkdtempSync(path.join(os.tmpdir(), "lstm-complete-unit-"));
after(() => { rmSync(tmp, { recursive: true, force: true }); });

/** An executable script standing in for a python: only its exit status and stderr matter. */
function fakePython(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A folder that looks like the project's checkout: importable `server.cli` and `trainer`. */
function lookalikeCheckout(): string {
  const dir = path.join(tmp, "workspace");
  for (const file of ["server/__init__.py", "server/cli.py", "trainer/__init__.py"]) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), "");
  }
  return dir;
}

describe("checkServer", () => {
  const storage = path.join(tmp, "storage");
  before(() => { mkdirSync(storage, { recursive: true }); });

  it("is installed when the imports succeed", async () => {
    assert.deepEqual(await checkServer(fakePython("ok", "exit 0"), storage), { kind: "installed" });
  });

  it("is missing when they fail, with the interpreter's last error line", async () => {
    const python = fakePython("missing", "echo 'Traceback' >&2; echo \"ModuleNotFoundError: No module named 'server'\" >&2; exit 1");
    assert.deepEqual(await checkServer(python, storage), { kind: "missing", detail: "ModuleNotFoundError: No module named 'server'" });
  });

  it("is no-python when the interpreter cannot run", async () => {
    const python = path.join(tmp, "no", "python");
    assert.deepEqual(await checkServer(python, storage), { kind: "no-python", detail: `${python}: ENOENT` });
  });

  it("does not import a workspace's own `server` folder", async () => {
    const venv = path.join(tmp, "bare-venv");
    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
    const python = venvPython(venv, process.platform);
    const workspace = lookalikeCheckout();
    // The control: the look-alike is importable when put on the path on purpose.
    process.env.PYTHONPATH = workspace;
    try {
      assert.deepEqual(await checkServer(python, storage), { kind: "installed" });
    } finally {
      delete process.env.PYTHONPATH;
    }
    const cwd = process.cwd();
    process.chdir(workspace);
    try {
      assert.equal((await checkServer(python, storage)).kind, "missing");
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("findServerPython", () => {
  const missing: ServerCheck = { kind: "missing", detail: "No module named 'server'" };
  const checks = (installed: string[]) => (python: string) =>
    Promise.resolve<ServerCheck>(installed.includes(python) ? { kind: "installed" } : missing);
  const managed = path.join(tmp, "managed-python");
  before(() => { writeFileSync(managed, ""); });

  it("uses the chosen interpreter when it has the server", async () => {
    assert.deepEqual(await findServerPython("/chosen", managed, checks(["/chosen", managed])), {
      kind: "found", python: "/chosen", managed: false,
    });
  });

  it("falls back to the extension's own environment when that has it", async () => {
    assert.deepEqual(await findServerPython("/chosen", managed, checks([managed])), { kind: "found", python: managed, managed: true });
  });

  it("reports the chosen interpreter's problem when neither has it", async () => {
    assert.deepEqual(await findServerPython("/chosen", managed, checks([])), { kind: "absent", check: missing });
    assert.deepEqual(await findServerPython("/chosen", path.join(tmp, "none"), checks([])), { kind: "absent", check: missing });
  });
});

describe("bundledServer", () => {
  it("finds the wheel and the constraints the packaging script put in the extension", () => {
    const extension = path.join(tmp, "extension");
    assert.equal(bundledServer(extension), undefined);
    mkdirSync(path.join(extension, "python"), { recursive: true });
    writeFileSync(path.join(extension, "python", "lstm_complete-0.1.0-py3-none-any.whl"), "");
    assert.equal(bundledServer(extension), undefined); // no constraints: not a whole bundle
    writeFileSync(path.join(extension, "python", "constraints.txt"), "torch==2.13.0\n");
    assert.deepEqual(bundledServer(extension), {
      wheel: path.join(extension, "python", "lstm_complete-0.1.0-py3-none-any.whl"),
      constraints: path.join(extension, "python", "constraints.txt"),
    });
  });
});

describe("installServer", () => {
  const venv = path.join(tmp, "managed");
  const lines: string[] = [];
  const request = (source: string) => ({
    basePython: "python3", venvDir: venv, source, cwd: tmp, signal: new AbortController().signal,
    log: (line: string) => { lines.push(line); },
  });

  it("reports pip's error when the source cannot be installed", async () => {
    await assert.rejects(installServer(request(path.join(tmp, "no-such-checkout"))), /pip install --upgrade .*no-such-checkout.* failed: .+/);
    assert.ok(existsSync(venvPython(venv, process.platform)), "the virtual environment was made first");
  });

  it("keeps the versions the constraints file pins", async () => {
    const wheel = path.join(tmp, "fake_lstm-0.1-py3-none-any.whl");
    execFileSync("python3", ["-c", MAKE_WHEEL, wheel]);
    const pins = path.join(tmp, "constraints.txt");
    writeFileSync(pins, "fake-lstm==9.9\n");
    await assert.rejects(installServer({ ...request(wheel), constraints: pins }), /-c .*constraints\.txt.* failed: .+/);
  });

  it("installs a wheel into the environment, after which the check passes", async () => {
    const wheel = path.join(tmp, "fake_lstm-0.1-py3-none-any.whl");
    execFileSync("python3", ["-c", MAKE_WHEEL, wheel]);
    const python = await installServer(request(wheel));
    assert.equal(python, venvPython(venv, process.platform));
    assert.deepEqual(await checkServer(python, tmp), { kind: "installed" });
    assert.ok(lines.some((line) => line.includes("Successfully installed fake-lstm-0.1")), lines.join("\n"));
  });
});

// Writes a minimal wheel providing `server.cli` and `trainer`, as the real package does.
const MAKE_WHEEL = `
import sys, zipfile
info = "fake_lstm-0.1.dist-info/"
files = {
    "server/__init__.py": "", "server/cli.py": "", "trainer/__init__.py": "",
    info + "METADATA": "Metadata-Version: 2.1\\nName: fake-lstm\\nVersion: 0.1\\n",
    info + "WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
files[info + "RECORD"] = "".join(name + ",,\\n" for name in [*files, info + "RECORD"])
with zipfile.ZipFile(sys.argv[1], "w") as wheel:
    for name, text in files.items():
        wheel.writestr(name, text)
`;
