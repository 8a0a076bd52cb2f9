// Command ids, the server's and the extension's, and the status bar's menu. Pure.

/**
 * The server's `workspace/executeCommand` commands. vscode-languageclient registers each of
 * them as a VS Code command under the same id, so the extension's own ids must differ.
 */
export const SERVER_COMMANDS = {
  status: "lstm-complete.status",
  retrain: "lstm-complete.retrain",
  pause: "lstm-complete.pause",
  resume: "lstm-complete.resume",
} as const;

/** The extension's commands, as contributed in package.json. */
export const COMMANDS = {
  retrainWorkspace: "lstmComplete.retrainWorkspace",
  pauseLearning: "lstmComplete.pauseLearning",
  resumeLearning: "lstmComplete.resumeLearning",
  showStatus: "lstmComplete.showStatus",
  restartServer: "lstmComplete.restartServer",
  showOutput: "lstmComplete.showOutput",
  installServer: "lstmComplete.installServer",
  showMenu: "lstmComplete.showMenu",
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

export interface MenuItem {
  label: string;
  command: CommandId;
}

/**
 * The status bar's menu. Pausing is offered while learning is on and resuming while it is off;
 * with no answer from the server (`learning` undefined) both are, since either may be wanted.
 * With the server missing, only what can help then: installing it, restarting, the output.
 */
export function menuItems(learning: boolean | undefined, serverMissing: boolean): MenuItem[] {
  const restart = { label: "$(debug-restart) Restart the server", command: COMMANDS.restartServer };
  const output = { label: "$(output) Show the output", command: COMMANDS.showOutput };
  if (serverMissing) {
    return [{ label: "$(cloud-download) Install the server", command: COMMANDS.installServer }, restart, output];
  }
  const items: MenuItem[] = [{ label: "$(refresh) Retrain on this workspace", command: COMMANDS.retrainWorkspace }];
  if (learning !== false) items.push({ label: "$(debug-pause) Pause learning", command: COMMANDS.pauseLearning });
  if (learning !== true) items.push({ label: "$(play) Resume learning", command: COMMANDS.resumeLearning });
  items.push({ label: "$(info) Show status", command: COMMANDS.showStatus }, restart, output);
  return items;
}
