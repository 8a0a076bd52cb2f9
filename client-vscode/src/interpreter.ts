// Which Python runs the server. Pure: the sources are handed in, so the order is unit-tested.

export type InterpreterSource = "setting" | "python-extension" | "path";

export interface Interpreter {
  /** An executable path, or a command name looked up on PATH. */
  command: string;
  source: InterpreterSource;
}

export interface InterpreterSources {
  /** `lstmComplete.pythonPath`, already expanded; undefined when unset. */
  setting: string | undefined;
  /** The interpreter selected in Microsoft's Python extension; undefined without one. */
  pythonExtension: () => Promise<string | undefined>;
}

/** The command name used when neither the setting nor the Python extension names one. */
export const PATH_PYTHON = "python3";

/**
 * The user's own setting wins; then the interpreter selected in the Python extension, so the
 * server runs where the user's project runs; then `python3` on PATH.
 */
export async function resolveInterpreter(sources: InterpreterSources): Promise<Interpreter> {
  if (sources.setting !== undefined) {
    return { command: sources.setting, source: "setting" };
  }
  const selected = await sources.pythonExtension();
  if (selected !== undefined) {
    return { command: selected, source: "python-extension" };
  }
  return { command: PATH_PYTHON, source: "path" };
}

/** Says where an interpreter came from, for messages and the output channel. */
export function describeInterpreter(interpreter: Interpreter): string {
  switch (interpreter.source) {
    case "setting":
      return `${interpreter.command} (from the setting lstmComplete.pythonPath)`;
    case "python-extension":
      return `${interpreter.command} (selected in the Python extension)`;
    case "path":
      return `${interpreter.command} (on PATH)`;
  }
}
