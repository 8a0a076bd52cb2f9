// The server's `lstm-complete.status` answer, and what the status bar says about it. Pure.

export type ModelState = "ready" | "training" | "no-model" | "error";

export interface ModelInfo {
  path: string;
  parameters: number;
  trainedChars: number;
  heldOutBpc: number | null;
  isBase: boolean;
}

export interface LastUpdate {
  files: string[];
  seconds: number;
  heldOutBpcBefore: number | null;
  heldOutBpc: number | null;
  /** null: there was nothing to learn (only deletions). */
  accepted: boolean | null;
}

export interface ServerStatus {
  state: ModelState;
  message: string | null;
  model: ModelInfo | null;
  queue: { path: string; reason: string }[];
  learning: boolean;
  progress: { title: string; percentage: number } | null;
  lastUpdate: LastUpdate | null;
}

const STATES: readonly ModelState[] = ["ready", "training", "no-model", "error"];

/** Checks the shape of a status answer; throws with what is wrong, so a mismatch is seen, not guessed around. */
export function parseStatus(value: unknown): ServerStatus {
  const obj = record(value, "status");
  const state = obj.state;
  if (typeof state !== "string" || !isModelState(state)) {
    throw new Error(`status.state must be one of ${STATES.join(", ")}, not ${JSON.stringify(state)}`);
  }
  return {
    state,
    message: absent(obj.message) ? null : string(obj.message, "status.message"),
    model: absent(obj.model) ? null : parseModel(obj.model),
    queue: absent(obj.queue) ? [] : list(obj.queue, "status.queue").map(parseQueued),
    learning: boolean(obj.learning, "status.learning"),
    progress: absent(obj.progress) ? null : parseProgress(obj.progress),
    lastUpdate: absent(obj.lastUpdate) ? null : parseLastUpdate(obj.lastUpdate),
  };
}

function isModelState(value: string): value is ModelState {
  return (STATES as readonly string[]).includes(value);
}

function parseModel(value: unknown): ModelInfo {
  const obj = record(value, "status.model");
  return {
    path: string(obj.path, "status.model.path"),
    parameters: number(obj.parameters, "status.model.parameters"),
    trainedChars: number(obj.trainedChars, "status.model.trainedChars"),
    heldOutBpc: absent(obj.heldOutBpc) ? null : number(obj.heldOutBpc, "status.model.heldOutBpc"),
    isBase: boolean(obj.isBase, "status.model.isBase"),
  };
}

function parseQueued(value: unknown): ServerStatus["queue"][number] {
  const obj = record(value, "status.queue[]");
  return { path: string(obj.path, "status.queue[].path"), reason: string(obj.reason, "status.queue[].reason") };
}

function parseLastUpdate(value: unknown): LastUpdate {
  const obj = record(value, "status.lastUpdate");
  const optional = (v: unknown, name: string) => (absent(v) ? null : number(v, name));
  return {
    files: list(obj.files, "status.lastUpdate.files").map((f) => string(f, "status.lastUpdate.files[]")),
    seconds: number(obj.seconds, "status.lastUpdate.seconds"),
    heldOutBpcBefore: optional(obj.heldOutBpcBefore, "status.lastUpdate.heldOutBpcBefore"),
    heldOutBpc: optional(obj.heldOutBpc, "status.lastUpdate.heldOutBpc"),
    accepted: absent(obj.accepted) ? null : boolean(obj.accepted, "status.lastUpdate.accepted"),
  };
}

function parseProgress(value: unknown): NonNullable<ServerStatus["progress"]> {
  const obj = record(value, "status.progress");
  return {
    title: string(obj.title, "status.progress.title"),
    percentage: number(obj.percentage, "status.progress.percentage"),
  };
}

function absent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${name} must be an object, not ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${name} must be a list, not ${JSON.stringify(value)}`);
  return value as unknown[];
}

function string(value: unknown, name: string): string {
  if (typeof value !== "string") throw new Error(`${name} must be a string, not ${JSON.stringify(value)}`);
  return value;
}

function number(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${name} must be a number, not ${JSON.stringify(value)}`);
  }
  return value;
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") throw new Error(`${name} must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

/** Everything the status bar can show: the server's own state, or why there is none. */
export type View =
  | { kind: "starting" }
  | { kind: "server"; status: ServerStatus }
  | { kind: "unreachable"; message: string }
  | { kind: "not-installed"; message: string }
  | { kind: "stopped"; message: string };

export interface StatusBarText {
  text: string;
  /** One line: the state in words, for the menu's placeholder. */
  summary: string;
  tooltip: string;
  /** Shown with the error colours, for the states the user has to act on. */
  isError: boolean;
}

export function statusBarText(view: View): StatusBarText {
  switch (view.kind) {
    case "starting":
      return plain("$(loading~spin) LSTM starting", "lstm-complete: starting the server", undefined, false);
    case "not-installed":
      return plain("$(warning) LSTM not installed", "lstm-complete: the server is not installed", view.message, true);
    case "stopped":
      return plain("$(debug-stop) LSTM stopped", "lstm-complete: the server stopped", view.message, true);
    case "unreachable":
      return plain("$(error) LSTM error", "lstm-complete: no status from the server", view.message, true);
    case "server":
      return serverText(view.status);
  }
}

function plain(text: string, summary: string, detail: string | undefined, isError: boolean): StatusBarText {
  return { text, summary, tooltip: detail === undefined ? summary : `${summary}\n${detail}`, isError };
}

function serverText(status: ServerStatus): StatusBarText {
  const summary = statusTitle(status);
  const tooltip = [summary, ...statusDetails(status)].join("\n");
  if (status.progress !== null) {
    return { text: `$(sync~spin) LSTM learning ${String(Math.round(status.progress.percentage))}%`, summary, tooltip, isError: false };
  }
  switch (status.state) {
    case "ready":
      return { text: `$(check) LSTM ready${status.learning ? "" : " (learning paused)"}`, summary, tooltip, isError: false };
    case "training":
      return { text: "$(sync~spin) LSTM learning", summary, tooltip, isError: false };
    case "no-model":
      return { text: "$(circle-slash) LSTM no model", summary, tooltip, isError: false };
    case "error":
      return { text: "$(error) LSTM error", summary, tooltip, isError: true };
  }
}

const STATE_WORDS: Record<ModelState, string> = {
  ready: "the model is ready",
  training: "the model is learning",
  "no-model": "no model",
  error: "error",
};

/** One line: the model's state. */
export function statusTitle(status: ServerStatus): string {
  return `lstm-complete: ${STATE_WORDS[status.state]}`;
}

/** The lines under the title, in the tooltip and in the Show Status dialog. */
export function statusDetails(status: ServerStatus): string[] {
  const lines: string[] = [];
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
  if (status.lastUpdate !== null) lines.push(lastUpdateLine(status.lastUpdate));
  return lines;
}

function lastUpdateLine(update: LastUpdate): string {
  const files = update.files.length === 1 ? update.files[0] : `${String(update.files.length)} files`;
  const took = `${update.seconds.toFixed(1)} s`;
  if (update.accepted === null) return `Last update: ${files}, nothing to learn (${took})`;
  const figure =
    update.heldOutBpcBefore !== null && update.heldOutBpc !== null
      ? `, held-out ${update.heldOutBpcBefore.toFixed(3)} -> ${update.heldOutBpc.toFixed(3)} bits/char`
      : "";
  return `Last update: ${files}, ${update.accepted ? "learned" : "rejected, previous weights kept"} in ${took}${figure}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}
