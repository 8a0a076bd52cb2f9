import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  SERVER_SETTING_KEYS,
  expandPath,
  installSourceSetting,
  pythonPathSetting,
  serverSettings,
} from "../src/config";
import { manifest } from "./manifest";

const paths = { workspaceFolder: "/ws", home: "/home/me" };
const reader = (values: Record<string, unknown>) => (key: string) => values[key];

describe("serverSettings", () => {
  it("passes the server's keys through and leaves the extension's out", () => {
    const settings = serverSettings(
      reader({
        temperature: 0.5,
        numSuggestions: 3,
        exclude: ["*.gen.py"],
        inlineEnabled: false,
        pythonPath: "/usr/bin/python3",
        "server.installSource": "lstm-complete",
        "trace.server": "verbose",
      }),
      paths,
    );
    assert.deepEqual(settings, { temperature: 0.5, numSuggestions: 3, exclude: ["*.gen.py"], inlineEnabled: false });
  });

  it("leaves values unchecked, for the server to validate and report", () => {
    assert.deepEqual(serverSettings(reader({ numSuggestions: "many", device: "tpu" }), paths), {
      numSuggestions: "many",
      device: "tpu",
    });
  });

  it("expands ~ and ${workspaceFolder} in modelPath, and keeps null", () => {
    assert.equal(serverSettings(reader({ modelPath: "${workspaceFolder}/.model" }), paths).modelPath, "/ws/.model");
    assert.equal(serverSettings(reader({ modelPath: "~/models/a" }), paths).modelPath, "/home/me/models/a");
    assert.equal(serverSettings(reader({ modelPath: null }), paths).modelPath, null);
  });
});

describe("pythonPathSetting", () => {
  it("is undefined when empty or blank", () => {
    assert.equal(pythonPathSetting(reader({}), paths), undefined);
    assert.equal(pythonPathSetting(reader({ pythonPath: "  " }), paths), undefined);
  });

  it("expands the workspace folder and the home folder", () => {
    assert.equal(pythonPathSetting(reader({ pythonPath: "${workspaceFolder}/.venv/bin/python" }), paths), "/ws/.venv/bin/python");
    assert.equal(pythonPathSetting(reader({ pythonPath: "~/py/bin/python" }), paths), "/home/me/py/bin/python");
  });
});

describe("expandPath", () => {
  it("leaves ${workspaceFolder} alone with no folder open, so the error names it", () => {
    assert.equal(expandPath("${workspaceFolder}/m", { workspaceFolder: undefined, home: "/h" }), "${workspaceFolder}/m");
  });

  it("expands only a leading ~", () => {
    assert.equal(expandPath("/a/~/b", paths), "/a/~/b");
    assert.equal(expandPath("~", paths), "/home/me");
  });
});

describe("installSourceSetting", () => {
  it("defaults to the PyPI name and expands paths", () => {
    assert.equal(installSourceSetting(reader({}), paths), undefined); // the bundled server
    assert.equal(installSourceSetting(reader({ "server.installSource": "~/src/lstm" }), paths), "/home/me/src/lstm");
  });
});

describe("package.json", () => {
  it("contributes a setting for each server setting, and only the extension's own besides", () => {
    const contributed = Object.keys(manifest.contributes.configuration.properties).sort();
    const expected = [
      ...SERVER_SETTING_KEYS.map((key) => `lstmComplete.${key}`),
      "lstmComplete.pythonPath",
      "lstmComplete.server.installSource",
      "lstmComplete.trace.server",
    ].sort();
    assert.deepEqual(contributed, expected);
  });
});
