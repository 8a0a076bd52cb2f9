// The server's lifecycle: finds the python, starts and stops the language client, forwards
// settings and commands. One server at a time; starts and stops run one after another.

import { mkdirSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  type LanguageClient,
  State,
} from "vscode-languageclient/node";

import { createClient } from "./client";
import { SECTION, pythonPathSetting, serverSettings, type PathContext, type ServerSettings } from "./config";
import { describeInterpreter, resolveInterpreter, type Interpreter } from "./interpreter";
import { ProgressNotifications } from "./progressNotifications";
import { selectedInterpreter } from "./pythonExtension";
import { checkServer, findServerPython, venvPython, type ServerCheck } from "./serverInstall";
import type { View } from "./status";

export class ServerSession implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly views = new vscode.EventEmitter<View>();
  /** Fires when the server starts, stops, or cannot start; the status bar listens. */
  readonly onDidChangeView = this.views.event;

  constructor(
    private readonly storage: string,
    private readonly output: vscode.LogOutputChannel,
    private readonly onMissing: (interpreter: Interpreter, check: Exclude<ServerCheck, { kind: "installed" }>) => void,
  ) {
    // The server and the checks run from here, never from the workspace (see `pythonEnv`).
    mkdirSync(storage, { recursive: true });
  }

  /** The virtual environment that the install action creates and the server may run from. */
  get venvDir(): string {
    return path.join(this.storage, "venv");
  }

  /**
   * Stops the running server, if any, and starts one with the python found now. Never rejects:
   * every failure is reported where the user sees it, and the status bar says the server stopped.
   */
  restart(): Promise<void> {
    return this.serialize(async () => {
      await this.stopClient();
      try {
        await this.startClient();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.output.error(`The server did not start: ${message}`);
        this.views.fire({ kind: "stopped", message: `The lstm-complete server did not start: ${message}` });
      }
    });
  }

  /** The interpreter named by the settings or the Python extension, in that order, else python3. */
  interpreter(): Promise<Interpreter> {
    const config = vscode.workspace.getConfiguration(SECTION);
    return resolveInterpreter({
      setting: pythonPathSetting((key) => config.get(key), this.pathContext()),
      pythonExtension: () => selectedInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri, this.output),
    });
  }

  /** Sends the current settings; the server applies them without a restart. */
  async sendSettings(): Promise<void> {
    const client = this.client;
    if (client?.isRunning() !== true) return; // a server started later gets them at initialize
    try {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: this.serverSettings() },
      });
    } catch (error) {
      this.output.error(`Sending the settings to the server: ${String(error)}`);
    }
  }

  /** Runs one of the server's `workspace/executeCommand` commands and returns its answer. */
  async executeServerCommand(command: string): Promise<unknown> {
    const client = this.client;
    if (client?.isRunning() !== true) {
      throw new Error("the server is not running");
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [] });
  }

  isRunning(): boolean {
    return this.client?.isRunning() === true;
  }

  /** Stops the server; deactivation waits for this so no server process outlives the window. */
  stop(): Promise<void> {
    return this.serialize(() => this.stopClient());
  }

  dispose(): void {
    this.views.dispose();
  }

  /** The settings' `${workspaceFolder}` is the first folder's; one server serves the window. */
  pathContext(): PathContext {
    return { workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, home: os.homedir() };
  }

  private serverSettings(): ServerSettings {
    const config = vscode.workspace.getConfiguration(SECTION);
    return serverSettings((key) => config.get(key), this.pathContext());
  }

  private serialize(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step);
    return this.queue;
  }

  private async startClient(): Promise<void> {
    this.views.fire({ kind: "starting" });
    const interpreter = await this.interpreter();
    this.output.info(`Python: ${describeInterpreter(interpreter)}`);
    const found = await findServerPython(interpreter.command, venvPython(this.venvDir, process.platform), (python) =>
      checkServer(python, this.storage),
    );
    if (found.kind === "absent") {
      const message = `The lstm-complete server is not available with ${describeInterpreter(interpreter)}: ${found.check.detail}`;
      this.output.warn(message);
      this.views.fire({ kind: "not-installed", message });
      this.onMissing(interpreter, found.check);
      return;
    }
    if (found.managed) {
      this.output.info(`The server is not installed there; using the one this extension installed: ${found.python}`);
    }
    const progress = new ProgressNotifications();
    const client = createClient({
      python: found.python,
      cwd: this.storage,
      settings: () => this.serverSettings(),
      output: this.output,
      progress,
    });
    client.onDidChangeState((event) => {
      if (event.newState !== State.Stopped) return;
      progress.dispose();
      // A stop that `stopClient` asked for is no news; any other means the server went away.
      if (this.client === client) {
        this.views.fire({ kind: "stopped", message: "The lstm-complete server stopped; its output tells why." });
      }
    });
    this.client = client;
    this.output.info(`Starting: ${found.python} -m server serve --stdio`);
    // The client shows a failure to start itself (a notification and the output channel); the
    // error then only needs to reach the status bar, through `restart`.
    await client.start();
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    try {
      // Also unregisters the server's commands, so the next client can register them again.
      await client.dispose();
    } catch (error) {
      this.output.warn(`Stopping the server: ${String(error)}`);
    }
  }
}
