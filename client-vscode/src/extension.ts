// Entry point: wires the output channel, the server session, the status bar, the commands, and
// the reactions to settings and interpreter changes.

import * as vscode from "vscode";

import { SECTION } from "./config";
import { reportMissingServer } from "./installAction";
import { onSelectedInterpreterChange } from "./pythonExtension";
import { registerCommands } from "./registerCommands";
import { ServerSession } from "./session";
import { StatusBar } from "./statusBar";

let session: ServerSession | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("lstm-complete", { log: true });
  const current = new ServerSession(context.globalStorageUri.fsPath, output, (interpreter, check) => {
    void reportMissingServer(interpreter, check);
  });
  session = current;
  const statusBar = new StatusBar(current);
  context.subscriptions.push(
    output,
    current,
    statusBar,
    ...registerCommands({
      session: current,
      statusBar,
      output,
      install: {
        venvDir: current.venvDir,
        extensionPath: context.extensionPath,
        cwd: context.globalStorageUri.fsPath,
        output,
        paths: () => current.pathContext(),
      },
      basePython: async () => (await current.interpreter()).command,
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.pythonPath`)) {
        void current.restart();
      } else if (event.affectsConfiguration(SECTION)) {
        void current.sendSettings();
      }
    }),
  );
  // Neither is awaited: activation should not wait for the Python extension or for the model to
  // load; the status bar shows how the start goes.
  void onSelectedInterpreterChange(() => void current.restart(), output).then((listener) => {
    if (listener !== undefined) context.subscriptions.push(listener);
  });
  void current.restart();
}

export async function deactivate(): Promise<void> {
  await session?.stop();
}
