// The extension's commands: each forwards to the server or to the session, and says plainly
// when the server refuses (an older server may not know a command yet).

import * as vscode from "vscode";

import { COMMANDS, SERVER_COMMANDS, menuItems, type CommandId } from "./commands";
import { installWithProgress, type InstallContext } from "./installAction";
import type { ServerSession } from "./session";
import { statusDetails, statusTitle } from "./status";
import type { StatusBar } from "./statusBar";

export interface CommandContext {
  session: ServerSession;
  statusBar: StatusBar;
  output: vscode.LogOutputChannel;
  install: InstallContext;
  /** The python to build the virtual environment with when the command is run from the palette. */
  basePython: () => Promise<string>;
}

export function registerCommands(context: CommandContext): vscode.Disposable[] {
  const { session, statusBar, output } = context;

  const forward = (command: string, done: string) => async (): Promise<void> => {
    try {
      await session.executeServerCommand(command);
      void vscode.window.showInformationMessage(`lstm-complete: ${done}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      output.error(`${command}: ${message}`);
      void vscode.window.showErrorMessage(`lstm-complete: ${command} failed: ${message}`);
    }
    await statusBar.refresh();
  };

  const handlers: Record<CommandId, (...args: unknown[]) => Promise<void> | void> = {
    [COMMANDS.retrainWorkspace]: forward(SERVER_COMMANDS.retrain, "retraining on this workspace."),
    [COMMANDS.pauseLearning]: forward(SERVER_COMMANDS.pause, "learning paused."),
    [COMMANDS.resumeLearning]: forward(SERVER_COMMANDS.resume, "learning resumed."),
    [COMMANDS.showStatus]: async () => {
      const status = await statusBar.refresh();
      if (status === undefined) {
        const choice = await vscode.window.showWarningMessage(
          "lstm-complete: the server has not reported a status; the output may tell why.",
          "Show Output",
        );
        if (choice !== undefined) output.show();
        return;
      }
      await vscode.window.showInformationMessage(statusTitle(status), {
        modal: true,
        detail: statusDetails(status).join("\n"),
      });
    },
    [COMMANDS.restartServer]: () => session.restart(),
    [COMMANDS.showOutput]: () => { output.show(); },
    [COMMANDS.installServer]: async (basePython?: unknown) => {
      const python = typeof basePython === "string" ? basePython : await context.basePython();
      if (await installWithProgress(python, context.install)) await session.restart();
    },
    [COMMANDS.showMenu]: async () => {
      const pick = await vscode.window.showQuickPick(menuItems(statusBar.status?.learning, statusBar.serverMissing), {
        title: "lstm-complete",
        placeHolder: statusBar.summary,
      });
      if (pick !== undefined) await vscode.commands.executeCommand(pick.command);
    },
  };

  return Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}
