// What the user sees when the server is missing: a plain message, and the action that installs
// it into the extension's own virtual environment with a progress notification.

import * as vscode from "vscode";

import { COMMANDS } from "./commands";
import { SECTION, installSourceSetting, type PathContext } from "./config";
import { describeInterpreter, type Interpreter } from "./interpreter";
import { bundledServer, installServer, type ServerCheck } from "./serverInstall";

const INSTALL = "Install";
const OPEN_SETTINGS = "Open Settings";
const SHOW_OUTPUT = "Show Output";

export interface InstallContext {
  venvDir: string;
  /** Where the extension is installed: the bundled server lies under it. */
  extensionPath: string;
  cwd: string;
  output: vscode.LogOutputChannel;
  paths: () => PathContext;
}

/** Tells the user the server is missing, offering to install it (or, without a Python, to set one). */
export async function reportMissingServer(
  interpreter: Interpreter,
  check: Exclude<ServerCheck, { kind: "installed" }>,
): Promise<void> {
  if (check.kind === "no-python") {
    const choice = await vscode.window.showErrorMessage(
      `lstm-complete: cannot run Python ${describeInterpreter(interpreter)} (${check.detail}). ` +
        "Set lstmComplete.pythonPath to a Python 3.10 or newer.",
      OPEN_SETTINGS,
    );
    if (choice === OPEN_SETTINGS) {
      await vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.pythonPath`);
    }
    return;
  }
  const choice = await vscode.window.showWarningMessage(
    `lstm-complete: the server is not installed for ${describeInterpreter(interpreter)}. ` +
      "Install it into a virtual environment of the extension's own?",
    INSTALL,
    SHOW_OUTPUT,
  );
  if (choice === INSTALL) {
    await vscode.commands.executeCommand(COMMANDS.installServer, interpreter.command);
  } else if (choice === SHOW_OUTPUT) {
    await vscode.commands.executeCommand(COMMANDS.showOutput);
  }
}

/**
 * Creates the virtual environment with `basePython` and pip-installs `lstmComplete.server.installSource`
 * into it. Returns whether it worked; a failure is shown, with the output a click away.
 */
export async function installWithProgress(basePython: string, context: InstallContext): Promise<boolean> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const bundled = bundledServer(context.extensionPath);
  const source = installSourceSetting((key) => config.get(key), context.paths()) ?? bundled?.wheel;
  if (source === undefined) {
    const message = "this build of the extension has no bundled server: set lstmComplete.server.installSource";
    context.output.error(`Install failed: ${message}`);
    void vscode.window.showErrorMessage(`lstm-complete: ${message}`);
    return false;
  }
  context.output.info(`Installing ${source} into ${context.venvDir} with ${basePython}`);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `lstm-complete: installing ${source}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => { abort.abort(); });
        return installServer({
          basePython,
          venvDir: context.venvDir,
          source,
          constraints: bundled?.constraints,
          cwd: context.cwd,
          signal: abort.signal,
          log: (line) => {
            context.output.info(line);
            progress.report({ message: line.slice(0, 120) });
          },
        });
      },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.output.error(`Install failed: ${message}`);
    void vscode.window.showErrorMessage(`lstm-complete: installing the server failed: ${message}`, SHOW_OUTPUT).then(
      (choice) => {
        if (choice === SHOW_OUTPUT) context.output.show();
      },
    );
    return false;
  }
  void vscode.window.showInformationMessage(`lstm-complete: the server is installed in ${context.venvDir}.`);
  return true;
}
