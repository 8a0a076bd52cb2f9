// The server's `lstm-complete.status` answer, and what the status bar says about it. Pure.

export type ModelState = "ready" | "training" | "no-model" | "error";

export interface ModelInfo {
  path: string;
  parameters: number;
  trainedChars: number;
  heldOutBpc: number | null;
  isBase: boolean;
}

export interface ServerStatus {
  state: ModelState;
  message: string | null;
  model: ModelInfo | null;
  queue: { path: string; reason: string }[];
  learning: boolean;
  progress: { title: string; percentage: number } | null;
}

/** The server's status command, sent with `workspace/executeCommand`. */
export const STATUS_COMMAND = "lstm-complete.status";

const STATES: readonly string[] = ["ready", "training", "no-model", "error"];

/** Checks the shape of a status answer; throws with what is wrong, so a mismatch is seen, not guessed around. */
export function parseStatus(value: unknown): ServerStatus {
  const obj = record(value, "status");
  const state = obj.state;
  if (typeof state !== "string" || !STATES.includes(state)) {
    throw new Error(`status.state must be one of ${STATES.join(", ")}, not ${JSON.stringify(state)}`);
  }
  return {
    state: state as ModelState,
    message: nullable(obj.message, "status.message", (v) => typeof v === "string") as string | null,
    model: obj.model === null || obj.model === undefined ? null : parseModel(obj.model),
    queue: parseQueue(obj.queue),
    learning: check(obj.learning, "status.learning", (v) => typeof v === "boolean") as boolean,
    progress: obj.progress === null || obj.progress === undefined ? null : parseProgress(obj.progress),
  };
}

function parseModel(value: unknown): ModelInfo {
  const obj = record(value, "status.model");
  return {
    path: check(obj.path, "status.model.path", isString) as string,
    parameters: check(obj.parameters, "status.model.parameters", isNumber) as number,
    trainedChars: check(obj.trainedChars, "status.model.trainedChars", isNumber) as number,
    heldOutBpc: nullable(obj.heldOutBpc, "status.model.heldOutBpc", isNumber) as number | null,
    isBase: check(obj.isBase, "status.model.isBase", (v) => typeof v === "boolean") as boolean,
  };
}

function parseQueue(value: unknown): ServerStatus["queue"] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error("status.queue must be a list");
  return value.map((entry) => {
    const obj = record(entry, "status.queue[]");
    return {
      path: check(obj.path, "status.queue[].path", isString) as string,
      reason: check(obj.reason, "status.queue[].reason", isString) as string,
    };
  });
}

function parseProgress(value: unknown): NonNullable<ServerStatus["progress"]> {
  const obj = record(value, "status.progress");
  return {
    title: check(obj.title, "status.progress.title", isString) as string,
    percentage: check(obj.percentage, "status.progress.percentage", isNumber) as number,
  };
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${name} must be an object, not ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function check(value: unknown, name: string, ok: (v: unknown) => boolean): unknown {
  if (!ok(value)) throw new Error(`${name} has an unexpected value: ${JSON.stringify(value)}`);
  return value;
}

function nullable(value: unknown, name: string, ok: (v: unknown) => boolean): unknown {
  return value === null || value === undefined ? null : check(value, name, ok);
}

const isString = (v: unknown): boolean => typeof v === "string";
const isNumber = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

/** Everything the status bar can show: the server's own state, or why there is none. */
export type View =
  | { kind: "starting" }
  | { kind: "server"; status: ServerStatus }
  | { kind: "unreachable"; message: string }
  | { kind: "not-installed"; message: string }
  | { kind: "stopped"; message: string };

export interface StatusBarText {
  text: string;
  tooltip: string;
  /** Shown with the error colours, for the states the user has to act on. */
  isError: boolean;
}

export function statusBarText(view: View): StatusBarText {
  switch (view.kind) {
    case "starting":
      return { text: "$(loading~spin) LSTM starting", tooltip: "lstm-complete: starting the server", isError: false };
    case "not-installed":
      return { text: "$(warning) LSTM not installed", tooltip: view.message, isError: true };
    case "stopped":
      return { text: "$(debug-stop) LSTM stopped", tooltip: view.message, isError: true };
    case "unreachable":
      return { text: "$(error) LSTM error", tooltip: `lstm-complete: no status from the server: ${view.message}`, isError: true };
    case "server":
      return serverText(view.status);
  }
}

function serverText(status: ServerStatus): StatusBarText {
  const tooltip = statusDetails(status).join("\n");
  if (status.progress !== null) {
    return { text: `$(sync~spin) LSTM learning ${String(Math.round(status.progress.percentage))}%`, tooltip, isError: false };
  }
  switch (status.state) {
    case "ready":
      return { text: `$(check) LSTM ready${status.learning ? "" : " (learning paused)"}`, tooltip, isError: false };
    case "training":
      return { text: "$(sync~spin) LSTM learning", tooltip, isError: false };
    case "no-model":
      return { text: "$(circle-slash) LSTM no model", tooltip, isError: false };
    case "error":
      return { text: "$(error) LSTM error", tooltip, isError: true };
  }
}

/** The lines of the status shown in the tooltip and by the Show Status command. */
export function statusDetails(status: ServerStatus): string[] {
  const lines = [`lstm-complete: ${status.state}`];
  if (status.message !== null) lines.push(status.message);
  if (status.progress !== null) {
    lines.push(`${status.progress.title}: ${String(Math.round(status.progress.percentage))}%`);
  }
  if (status.model === null) {
    lines.push("No model loaded.");
  } else {
    const model = status.model;
    lines.push(`Model: ${model.path}${model.isBase ? " (the base model)" : ""}`);
    lines.push(`${count(model.parameters)} parameters, trained on ${count(model.trainedChars)} characters`);
    if (model.heldOutBpc !== null) {
      lines.push(`Held-out loss: ${model.heldOutBpc.toFixed(3)} bits per character`);
    }
  }
  lines.push(`Learning from changes: ${status.learning ? "on" : "paused"}`);
  if (status.queue.length > 0) {
    lines.push(`Waiting to learn: ${status.queue.map((q) => `${q.path} (${q.reason})`).join(", ")}`);
  }
  return lines;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}
