import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { COMMANDS, menuItems } from "../src/commands";
import { parseStatus, statusBarText, statusDetails, type ServerStatus } from "../src/status";

const ready = {
  state: "ready",
  message: null,
  model: { path: "/m", parameters: 925079, trainedChars: 12091939, heldOutBpc: 1.8734, isBase: false },
  queue: [],
  learning: true,
  progress: null,
};

function status(overrides: Partial<ServerStatus>): ServerStatus {
  return { ...parseStatus(ready), ...overrides };
}

describe("parseStatus", () => {
  it("reads a full answer", () => {
    const parsed = parseStatus({ ...ready, queue: [{ path: "a.py", reason: "saved" }], progress: { title: "Learning", percentage: 42 } });
    assert.equal(parsed.state, "ready");
    assert.equal(parsed.model?.parameters, 925079);
    assert.deepEqual(parsed.queue, [{ path: "a.py", reason: "saved" }]);
    assert.deepEqual(parsed.progress, { title: "Learning", percentage: 42 });
  });

  it("reads a server with no model", () => {
    const parsed = parseStatus({ state: "no-model", message: "train one first", model: null, queue: [], learning: false, progress: null });
    assert.equal(parsed.model, null);
    assert.equal(parsed.message, "train one first");
  });

  it("rejects what does not match the contract, naming the field", () => {
    assert.throws(() => parseStatus(null), /status must be an object/);
    assert.throws(() => parseStatus({ ...ready, state: "sleeping" }), /status\.state must be one of/);
    assert.throws(() => parseStatus({ ...ready, learning: "yes" }), /status\.learning/);
    assert.throws(() => parseStatus({ ...ready, model: { ...ready.model, parameters: "many" } }), /status\.model\.parameters/);
    assert.throws(() => parseStatus({ ...ready, progress: { title: "x" } }), /status\.progress\.percentage/);
    assert.throws(() => parseStatus({ ...ready, queue: {} }), /status\.queue must be a list/);
  });
});

describe("statusBarText", () => {
  it("says ready", () => {
    const shown = statusBarText({ kind: "server", status: status({}) });
    assert.equal(shown.text, "$(check) LSTM ready");
    assert.equal(shown.isError, false);
    assert.match(shown.tooltip, /925,079 parameters, trained on 12,091,939 characters/);
    assert.match(shown.tooltip, /1\.873 bits per character/);
    assert.equal(shown.summary, "lstm-complete: the model is ready");
  });

  it("says learning with the percentage whenever progress is reported", () => {
    const progress = { title: "Fine-tuning", percentage: 41.6 };
    assert.equal(statusBarText({ kind: "server", status: status({ state: "training", progress }) }).text, "$(sync~spin) LSTM learning 42%");
    assert.equal(statusBarText({ kind: "server", status: status({ state: "training" }) }).text, "$(sync~spin) LSTM learning");
  });

  it("says when learning is paused", () => {
    assert.equal(statusBarText({ kind: "server", status: status({ learning: false }) }).text, "$(check) LSTM ready (learning paused)");
  });

  it("says no model, and error in the error colours", () => {
    assert.equal(statusBarText({ kind: "server", status: status({ state: "no-model", model: null }) }).text, "$(circle-slash) LSTM no model");
    const error = statusBarText({ kind: "server", status: status({ state: "error", message: "checkpoint unreadable" }) });
    assert.equal(error.text, "$(error) LSTM error");
    assert.equal(error.isError, true);
    assert.match(error.tooltip, /checkpoint unreadable/);
  });

  it("tells the states that have no server answer apart", () => {
    assert.equal(statusBarText({ kind: "starting" }).text, "$(loading~spin) LSTM starting");
    const missing = statusBarText({ kind: "not-installed", message: "No module named 'server'" });
    assert.equal(missing.text, "$(warning) LSTM not installed");
    assert.equal(missing.summary, "lstm-complete: the server is not installed");
    assert.equal(missing.tooltip, "lstm-complete: the server is not installed\nNo module named 'server'");
    assert.equal(statusBarText({ kind: "stopped", message: "gone" }).isError, true);
    assert.match(statusBarText({ kind: "unreachable", message: "unknown command" }).tooltip, /unknown command/);
  });
});

describe("statusDetails", () => {
  it("lists the queue and names the base model", () => {
    const lines = statusDetails(status({
      model: { path: "/base", parameters: 10, trainedChars: 20, heldOutBpc: null, isBase: true },
      queue: [{ path: "a.py", reason: "saved" }],
    }));
    assert.ok(lines.includes("Model: /base (the base model)"));
    assert.ok(lines.includes("Waiting to learn: a.py (saved)"));
    assert.ok(!lines.some((line) => line.includes("Held-out")));
  });

  it("describes the last update, kept or rejected", () => {
    const lastUpdate = { files: ["a.py"], seconds: 12.34, heldOutBpcBefore: 1.2, heldOutBpc: 1.25, accepted: false };
    const parsed = parseStatus({ ...ready, lastUpdate: { ...lastUpdate, number: 1, finishedAt: 0 } });
    assert.deepEqual(parsed.lastUpdate, lastUpdate);
    assert.ok(
      statusDetails(parsed).includes(
        "Last update: a.py, rejected, previous weights kept in 12.3 s, held-out 1.200 -> 1.250 bits/char",
      ),
    );
    const learned = status({ lastUpdate: { ...lastUpdate, files: ["a.py", "b.py"], accepted: true } });
    assert.ok(statusDetails(learned).some((line) => line.startsWith("Last update: 2 files, learned in 12.3 s")));
    assert.throws(() => parseStatus({ ...ready, lastUpdate: { ...lastUpdate, seconds: "soon" } }), /lastUpdate\.seconds/);
  });
});

describe("menuItems", () => {
  const commands = (learning: boolean | undefined, missing = false) => menuItems(learning, missing).map((item) => item.command);

  it("offers pausing while learning and resuming while paused", () => {
    assert.ok(commands(true).includes(COMMANDS.pauseLearning));
    assert.ok(!commands(true).includes(COMMANDS.resumeLearning));
    assert.ok(commands(false).includes(COMMANDS.resumeLearning));
    assert.ok(!commands(false).includes(COMMANDS.pauseLearning));
  });

  it("offers installing, restarting and the output, only, when the server is missing", () => {
    assert.deepEqual(commands(undefined, true), [COMMANDS.installServer, COMMANDS.restartServer, COMMANDS.showOutput]);
    assert.ok(!commands(true).includes(COMMANDS.installServer));
  });

  it("offers both without a status, and always the rest", () => {
    const all = commands(undefined);
    for (const id of [COMMANDS.retrainWorkspace, COMMANDS.pauseLearning, COMMANDS.resumeLearning, COMMANDS.showStatus, COMMANDS.restartServer, COMMANDS.showOutput]) {
      assert.ok(all.includes(id), id);
    }
  });
});
