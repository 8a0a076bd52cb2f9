// The extension's settings, read through typed accessors. No `vscode` import: the caller hands
// in a reader for the `lstmComplete` section, so this maps plain values and is unit-tested.

export const SECTION = "lstmComplete";

/**
 * The server's settings, named exactly as the fields of `server/settings.py` (the source of
 * truth; package.json mirrors them). Their values are passed through unchecked: the server
 * validates them and reports a bad one, so there is one validator, not two that could disagree.
 */
export const SERVER_SETTING_KEYS = [
  "modelPath",
  "device",
  "temperature",
  "numSuggestions",
  "maxLength",
  "inlineEnabled",
  "listEnabled",
  "exclude",
  "learningEnabled",
] as const;

export type ServerSettingKey = (typeof SERVER_SETTING_KEYS)[number];
export type ServerSettings = Partial<Record<ServerSettingKey, unknown>>;

/** Reads one key of the `lstmComplete` section; `undefined` when it is not set anywhere. */
export type ReadSetting = (key: string) => unknown;

/** Where `${workspaceFolder}` and `~` in path settings point. */
export interface PathContext {
  workspaceFolder: string | undefined;
  home: string;
}

/** The object the server gets as `initializationOptions` and under `settings.lstmComplete`. */
export function serverSettings(read: ReadSetting, paths: PathContext): ServerSettings {
  const settings: ServerSettings = {};
  for (const key of SERVER_SETTING_KEYS) {
    const value = read(key);
    if (value !== undefined) {
      settings[key] = key === "modelPath" && typeof value === "string" ? expandPath(value, paths) : value;
    }
  }
  return settings;
}

/** The interpreter the user named in `lstmComplete.pythonPath`, or undefined when unset. */
export function pythonPathSetting(read: ReadSetting, paths: PathContext): string | undefined {
  const value = read("pythonPath");
  return typeof value === "string" && value.trim() !== "" ? expandPath(value.trim(), paths) : undefined;
}

/**
 * The pip requirement the install action installs: a PyPI name, a checkout's path, or a wheel;
 * undefined for the default, the server bundled with the extension.
 */
export function installSourceSetting(read: ReadSetting, paths: PathContext): string | undefined {
  const value = read("server.installSource");
  return typeof value === "string" && value.trim() !== "" ? expandPath(value.trim(), paths) : undefined;
}

/**
 * Expands `~` and `${workspaceFolder}` as VS Code users expect in path settings. A
 * `${workspaceFolder}` with no folder open is left as it is, so the error names it.
 */
export function expandPath(value: string, paths: PathContext): string {
  let out = value;
  if (out === "~" || out.startsWith("~/")) {
    out = paths.home + out.slice(1);
  }
  if (paths.workspaceFolder !== undefined) {
    out = out.replaceAll("${workspaceFolder}", paths.workspaceFolder);
  }
  return out;
}
