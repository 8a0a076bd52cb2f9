// The server's `$/progress` (loading a model, learning the workspace) as VS Code progress
// notifications. vscode-languageclient would show it only as a spinner in the status bar
// (ProgressLocation.Window); its `handleWorkDoneProgress` middleware lets this take over.

import * as vscode from "vscode";
import type {
  HandleWorkDoneProgressSignature,
  ProgressToken,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from "vscode-languageclient/node";

interface Shown {
  progress: vscode.Progress<{ message?: string; increment?: number }>;
  /** The percentage shown so far: VS Code takes increments, LSP sends totals. */
  percentage: number;
  finish: () => void;
}

export class ProgressNotifications implements vscode.Disposable {
  private readonly shown = new Map<ProgressToken, Shown>();

  /** The middleware: `begin` opens a notification, `report` updates it, `end` closes it. */
  readonly handle = (
    token: ProgressToken,
    params: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd,
    next: HandleWorkDoneProgressSignature,
  ): void => {
    switch (params.kind) {
      case "begin":
        this.begin(token, params);
        return;
      case "report":
        this.report(token, params);
        return;
      case "end":
        this.end(token);
        // The client's own bookkeeping for the token ends too; it never showed anything.
        next(token, params);
    }
  };

  private begin(token: ProgressToken, params: WorkDoneProgressBegin): void {
    this.end(token);
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: params.title }, (progress) =>
      new Promise<void>((finish) => {
        this.shown.set(token, { progress, percentage: 0, finish });
        this.report(token, params);
      }),
    );
  }

  private report(token: ProgressToken, params: { message?: string; percentage?: number }): void {
    const shown = this.shown.get(token);
    if (shown === undefined) return;
    const percentage = Math.min(100, Math.max(shown.percentage, params.percentage ?? shown.percentage));
    const increment = percentage - shown.percentage;
    shown.progress.report(params.message === undefined ? { increment } : { message: params.message, increment });
    shown.percentage = percentage;
  }

  private end(token: ProgressToken): void {
    this.shown.get(token)?.finish();
    this.shown.delete(token);
  }

  /** Closes every notification: the server stopped, and will not end them. */
  dispose(): void {
    for (const token of [...this.shown.keys()]) this.end(token);
  }
}
