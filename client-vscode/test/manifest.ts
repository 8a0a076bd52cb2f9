// The extension's package.json, as the tests read it.
import { readFileSync } from "node:fs";
import * as path from "node:path";

export interface Manifest {
  contributes: { configuration: { properties: Record<string, unknown> }; commands: { command: string }[] };
}

// Compiled to client-vscode/build/test/, three folders below the top level.
export const manifest = JSON.parse(readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as Manifest;
