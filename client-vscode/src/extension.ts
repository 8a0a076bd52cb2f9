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

export async function activate(context: vscode.ExtensionContext): Promise<void> {
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
      install: { venvDir: current.venvDir, cwd: context.globalStorageUri.fsPath, output, paths: () => current.pathContext() },
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
  const interpreterChanges = await onSelectedInterpreterChange(() => void current.restart(), output);
  if (interpreterChanges !== undefined) context.subscriptions.push(interpreterChanges);
  // Not awaited: activation should not wait for the model to load; the status bar shows progress.
  void current.restart();
}

export async function deactivate(): Promise<void> {
  await session?.stop();
}
