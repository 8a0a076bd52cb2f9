import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { COMMANDS, SERVER_COMMANDS } from "../src/commands";
import { manifest } from "./manifest";

describe("command ids", () => {
  it("differ from the server's, which vscode-languageclient registers as VS Code commands", () => {
    const ours = new Set<string>(Object.values(COMMANDS));
    for (const id of Object.values(SERVER_COMMANDS)) assert.ok(!ours.has(id), id);
  });

  it("are the commands package.json contributes", () => {
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values(COMMANDS).sort());
  });
});
