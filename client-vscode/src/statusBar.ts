// The status bar item: the model's state, refreshed by polling the server's status command,
// and a click away from the menu of commands.

import * as vscode from "vscode";

import { COMMANDS, SERVER_COMMANDS } from "./commands";
import type { ServerSession } from "./session";
import { parseStatus, statusBarText, type ServerStatus, type View } from "./status";

/** The status command is cheap on the server; every few seconds keeps "learning 42%" current. */
const POLL_MS = 3000;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("lstmComplete.status", vscode.StatusBarAlignment.Right, 100);
  private readonly timer: NodeJS.Timeout;
  private readonly subscription: vscode.Disposable;
  private polling = false;
  /** The server's last answer; undefined while there is none. */
  private last: ServerStatus | undefined;
  private view: View = { kind: "starting" };

  constructor(private readonly session: ServerSession) {
    this.item.name = "lstm-complete";
    this.item.command = COMMANDS.showMenu;
    this.show(this.view);
    this.item.show();
    this.subscription = session.onDidChangeView((view) => {
      this.show(view);
      if (view.kind === "starting") this.last = undefined;
    });
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
  }

  /** The last status the server reported, for the menu and the Show Status command. */
  get status(): ServerStatus | undefined {
    return this.last;
  }

  /** Whether the item says the server is not installed. */
  get serverMissing(): boolean {
    return this.view.kind === "not-installed";
  }

  /** The item's state in words, for the menu's title line. */
  get summary(): string {
    return statusBarText(this.view).summary;
  }

  /** Asks the server for its status now; the commands call this after changing something. */
  async refresh(): Promise<ServerStatus | undefined> {
    if (!this.session.isRunning() || this.polling) return this.last;
    this.polling = true;
    try {
      this.last = parseStatus(await this.session.executeServerCommand(SERVER_COMMANDS.status));
      this.show({ kind: "server", status: this.last });
    } catch (error) {
      this.last = undefined;
      // The server may have stopped meanwhile; its own view then says so.
      if (this.session.isRunning()) {
        this.show({ kind: "unreachable", message: error instanceof Error ? error.message : String(error) });
      }
    } finally {
      this.polling = false;
    }
    return this.last;
  }

  private show(view: View): void {
    this.view = view;
    const { text, tooltip, isError } = statusBarText(view);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = isError ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }
}
