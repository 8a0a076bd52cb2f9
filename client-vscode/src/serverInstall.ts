// Whether an interpreter has the lstm-complete server, and installing it into a virtual
// environment of the extension's own. Node only (no `vscode`), so it is tested with real processes.

import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";

/** What "installed" means: the server's entry point and the trainer it imports both import. */
export const CHECK_IMPORTS = "import server.cli, trainer";

export type ServerCheck =
  | { kind: "installed" }
  | { kind: "missing"; detail: string }
  | { kind: "no-python"; detail: string };

/**
 * The environment for every Python process the extension starts. `-c` and `-m` put the current
 * folder first on sys.path, and a workspace may well have a `server/` folder of its own:
 * PYTHONSAFEPATH (3.11+) stops that, and the callers also run from a folder of the extension's.
 */
export function pythonEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, PYTHONSAFEPATH: "1", PIP_DISABLE_PIP_VERSION_CHECK: "1" };
}

const CHECK_TIMEOUT_MS = 60_000;

/** Runs the import check with `python`; `cwd` must be a folder of the extension's, not the workspace. */
export function checkServer(python: string, cwd: string): Promise<ServerCheck> {
  return new Promise((resolve) => {
    execFile(
      python,
      ["-c", CHECK_IMPORTS],
      { cwd, env: pythonEnv(process.env), timeout: CHECK_TIMEOUT_MS },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve({ kind: "installed" });
        } else if (typeof error.code === "string") {
          // A string code is the operating system's (ENOENT, EACCES): nothing ran.
          resolve({ kind: "no-python", detail: `${python}: ${error.code}` });
        } else if (error.killed) {
          resolve({ kind: "missing", detail: `\`${CHECK_IMPORTS}\` did not finish in ${CHECK_TIMEOUT_MS / 1000} s` });
        } else {
          resolve({ kind: "missing", detail: lastLine(stderr) ?? `exit status ${String(error.code)}` });
        }
      },
    );
  });
}

/** The interpreter inside a virtual environment made by `python -m venv`. */
export function venvPython(venvDir: string, platform: NodeJS.Platform): string {
  return platform === "win32"
    ? path.join(venvDir, "Scripts", "python.exe")
    : path.join(venvDir, "bin", "python");
}

export interface InstallRequest {
  /** The interpreter that creates the virtual environment. */
  basePython: string;
  venvDir: string;
  /** A pip requirement: a PyPI name, a path to a checkout, or a wheel. */
  source: string;
  /**
   * A pip constraints file: the versions the server was tested with (unpinned, torch alone
   * would pull gigabytes of CUDA packages).
   */
  constraints?: string | undefined;
  cwd: string;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Creates the virtual environment (once) and pip-installs the server into it; returns its python. */
export async function installServer(request: InstallRequest): Promise<string> {
  const python = venvPython(request.venvDir, process.platform);
  if (!existsSync(python)) {
    await run(request.basePython, ["-m", "venv", request.venvDir], request);
  }
  const pins = request.constraints === undefined ? [] : ["-c", request.constraints];
  await run(python, ["-m", "pip", "install", "--upgrade", ...pins, request.source], request);
  return python;
}

/** Runs a command, copying its output to `log` line by line; rejects with its last error line. */
function run(command: string, args: string[], request: InstallRequest): Promise<void> {
  request.log(`> ${[command, ...args].join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: request.cwd,
      env: pythonEnv(process.env),
      signal: request.signal,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let lastError: string | undefined;
    createInterface({ input: child.stdout }).on("line", (line) => {
      request.log(line);
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      request.log(line);
      if (line.trim() !== "") lastError = line;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) {
        resolve();
      } else {
        const why = lastError ?? `exit status ${String(code)}`;
        reject(new Error(`\`${command} ${args.join(" ")}\` failed: ${why}`));
      }
    });
  });
}

function lastLine(text: string): string | undefined {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  return lines.at(-1);
}

/**
 * The server package that ships inside the extension (a wheel, with the constraints file it was
 * tested with), put there by the packaging script; undefined when there is none.
 */
export function bundledServer(extensionPath: string): { wheel: string; constraints: string } | undefined {
  const folder = path.join(extensionPath, "python");
  const wheel = existsSync(folder) ? readdirSync(folder).find((name) => name.endsWith(".whl")) : undefined;
  const constraints = path.join(folder, "constraints.txt");
  return wheel === undefined || !existsSync(constraints) ? undefined : { wheel: path.join(folder, wheel), constraints };
}

/** The python that runs the server, or why there is none. */
export type ServerPython =
  | { kind: "found"; python: string; managed: boolean }
  | { kind: "absent"; check: Exclude<ServerCheck, { kind: "installed" }> };

/**
 * The chosen interpreter when it has the server; otherwise the extension's own virtual
 * environment when an earlier install action put the server there; otherwise why neither runs.
 */
export async function findServerPython(
  chosen: string,
  managed: string,
  check: (python: string) => Promise<ServerCheck>,
): Promise<ServerPython> {
  const result = await check(chosen);
  if (result.kind === "installed") return { kind: "found", python: chosen, managed: false };
  if (existsSync(managed) && (await check(managed)).kind === "installed") {
    return { kind: "found", python: managed, managed: true };
  }
  return { kind: "absent", check: result };
}
