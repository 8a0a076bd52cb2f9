import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { PATH_PYTHON, describeInterpreter, resolveInterpreter } from "../src/interpreter";

describe("resolveInterpreter", () => {
  it("takes the setting first, without asking the Python extension", async () => {
    let asked = false;
    const found = await resolveInterpreter({
      setting: "/opt/py/bin/python",
      pythonExtension: () => {
        asked = true;
        return Promise.resolve("/ext/python");
      },
    });
    assert.deepEqual(found, { command: "/opt/py/bin/python", source: "setting" });
    assert.equal(asked, false);
  });

  it("takes the Python extension's interpreter when there is no setting", async () => {
    const found = await resolveInterpreter({ setting: undefined, pythonExtension: () => Promise.resolve("/ext/python") });
    assert.deepEqual(found, { command: "/ext/python", source: "python-extension" });
  });

  it("falls back to python3 on PATH", async () => {
    const found = await resolveInterpreter({ setting: undefined, pythonExtension: () => Promise.resolve(undefined) });
    assert.deepEqual(found, { command: PATH_PYTHON, source: "path" });
  });
});

describe("describeInterpreter", () => {
  it("names where the interpreter came from", () => {
    assert.match(describeInterpreter({ command: "/p", source: "setting" }), /lstmComplete\.pythonPath/);
    assert.match(describeInterpreter({ command: "/p", source: "python-extension" }), /Python extension/);
    assert.match(describeInterpreter({ command: "python3", source: "path" }), /^python3 \(on PATH\)$/);
  });
});
