// The language client for one server process: `<python> -m server serve --stdio`.

import type * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

import type { ServerSettings } from "./config";
import type { ProgressNotifications } from "./progressNotifications";
import { pythonEnv } from "./serverInstall";

export const CLIENT_ID = "lstmComplete";
const CLIENT_NAME = "lstm-complete";

export interface ClientRequest {
  python: string;
  /** A folder of the extension's own: see `pythonEnv` for why not the workspace. */
  cwd: string;
  /** Read at each start, so a restart sends the settings of that moment. */
  settings: () => ServerSettings;
  output: vscode.LogOutputChannel;
  progress: ProgressNotifications;
}

export function createClient(request: ClientRequest): LanguageClient {
  // No `transport` here: with TransportKind.stdio the client would add `--stdio` itself; the
  // arguments are spelled out instead, as the server's command line documents them.
  const serverOptions: ServerOptions = {
    command: request.python,
    args: ["-m", "server", "serve", "--stdio"],
    options: { cwd: request.cwd, env: pythonEnv(process.env) },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
    ],
    outputChannel: request.output,
    initializationOptions: request.settings,
    middleware: { handleWorkDoneProgress: request.progress.handle },
  };
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}
