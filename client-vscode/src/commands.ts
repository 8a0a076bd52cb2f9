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
 */
export function menuItems(learning: boolean | undefined): MenuItem[] {
  const items: MenuItem[] = [{ label: "$(refresh) Retrain on this workspace", command: COMMANDS.retrainWorkspace }];
  if (learning !== false) items.push({ label: "$(debug-pause) Pause learning", command: COMMANDS.pauseLearning });
  if (learning !== true) items.push({ label: "$(play) Resume learning", command: COMMANDS.resumeLearning });
  items.push(
    { label: "$(info) Show status", command: COMMANDS.showStatus },
    { label: "$(debug-restart) Restart the server", command: COMMANDS.restartServer },
    { label: "$(output) Show the output", command: COMMANDS.showOutput },
  );
  return items;
}
