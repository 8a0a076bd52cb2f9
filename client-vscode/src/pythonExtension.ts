// The interpreter selected in Microsoft's Python extension (ms-python.python), through its API.

import * as vscode from "vscode";

const PYTHON_EXTENSION_ID = "ms-python.python";

/** The part of the Python extension's `environments` API this extension uses. */
interface EnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
  resolveEnvironment(environment: { id: string; path: string }): Promise<{ executable: { uri: vscode.Uri | undefined } } | undefined>;
  onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

/** The Python extension's environments API, or undefined when it is not installed or too old to have one. */
async function environments(log: vscode.LogOutputChannel): Promise<EnvironmentsApi | undefined> {
  const extension = vscode.extensions.getExtension<{ environments?: EnvironmentsApi }>(PYTHON_EXTENSION_ID);
  if (extension === undefined) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    if (api.environments === undefined) {
      log.warn(`${PYTHON_EXTENSION_ID} has no environments API; not asking it for an interpreter`);
    }
    return api.environments;
  } catch (error) {
    log.warn(`${PYTHON_EXTENSION_ID} did not activate: ${String(error)}`);
    return undefined;
  }
}

/** The executable of the environment selected for `resource`, or undefined without one. */
export async function selectedInterpreter(
  resource: vscode.Uri | undefined,
  log: vscode.LogOutputChannel,
): Promise<string | undefined> {
  const api = await environments(log);
  if (api === undefined) return undefined;
  const resolved = await api.resolveEnvironment(api.getActiveEnvironmentPath(resource));
  return resolved?.executable.uri?.fsPath;
}

/** Calls `listener` when the user selects another interpreter in the Python extension. */
export async function onSelectedInterpreterChange(
  listener: () => void,
  log: vscode.LogOutputChannel,
): Promise<vscode.Disposable | undefined> {
  const api = await environments(log);
  return api?.onDidChangeActiveEnvironmentPath(listener);
}
