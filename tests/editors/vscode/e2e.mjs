// The extension in a real VS Code: code-server in Chromium, driven by playwright-core, against
// the real lstm-complete server and a small trained model. Run by tests/editors/test_vscode.py,
// which installs what this needs and hands it one JSON argument (see `config` below).
//
// Each step asserts what a person would see and saves a screenshot into config.artifacts.
// Exit status 0 means every step passed; otherwise the first failure is printed.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";

/**
 * codeServer: code-server's entry script; playwright: the folder playwright-core is installed
 * under; chromium: the browser; vsix: the extension; workspace: a fresh folder of Python files
 * that has `main.py`; python: an interpreter with the server installed; barePython: one without;
 * model: a model folder; scratch: an empty folder for profiles; artifacts: where screenshots go.
 */
const config = JSON.parse(process.argv[2] ?? "{}");
for (const key of ["codeServer", "playwright", "chromium", "vsix", "workspace", "python", "barePython", "model", "scratch", "artifacts"]) {
  if (typeof config[key] !== "string") throw new Error(`e2e.mjs: config.${key} is missing`);
}
const { chromium } = createRequire(path.join(config.playwright, "package.json"))("playwright-core");

const TYPED = "def add_n";
/** Long enough for the server to start, load the model and index the workspace on a busy machine. */
const READY_MS = 90_000;
const STEP_MS = 30_000;
const INSTALL_MS = 400_000;

const userData = path.join(config.scratch, "user-data");
const extensions = path.join(config.scratch, "extensions");
const settingsFile = path.join(config.workspace, ".vscode", "settings.json");
mkdirSync(config.artifacts, { recursive: true });
mkdirSync(path.join(userData, "User"), { recursive: true });

// Quiet, offline, and with nothing but this extension suggesting: word-based suggestions off,
// and the list opens only when asked, so each step sees one feature at a time.
writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify({
  "editor.inlineSuggest.enabled": true,
  "editor.wordBasedSuggestions": "off",
  "editor.quickSuggestions": { other: "off", comments: "off", strings: "off" },
  "editor.suggestOnTriggerCharacters": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
}, null, 2));
// Learning off: saving main.py would otherwise start a fine-tuning run in the middle of the test.
const workspaceSettings = { "lstmComplete.pythonPath": config.python, "lstmComplete.modelPath": config.model, "lstmComplete.learningEnabled": false };
writeWorkspaceSettings(workspaceSettings);

let codeServer;
let browser;
let failed = false;
try {
  await codeServerCli(["--install-extension", config.vsix]);
  const port = await freePort();
  codeServer = startCodeServer(port);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
  browser = await chromium.launch({
    executablePath: config.chromium,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(config.workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  await run(page);
  console.log("e2e: every step passed");
} catch (error) {
  failed = true;
  console.error(`e2e: FAILED: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await browser?.close().catch(() => undefined);
  stopCodeServer(codeServer);
}
process.exit(failed ? 1 : 0);

async function run(page) {
  const original = readFileSync(path.join(config.workspace, "main.py"), "utf8");
  await step(page, "open main.py", "01-opened", async () => {
    await page.keyboard.press("Control+P");
    await page.keyboard.type("main.py", { delay: 20 });
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "main.py" }).waitFor({ timeout: STEP_MS });
    await page.keyboard.press("Enter");
    await page.locator(".tab.active", { hasText: "main.py" }).waitFor({ timeout: STEP_MS });
  });

  await step(page, "the server's work shows as a progress notification", "02-progress", async () => {
    // The server reports loading the model with $/progress; the toast lasts as long as that does.
    await page.locator(".notification-toast", { hasText: "lstm-complete: loading the model" }).waitFor({ timeout: READY_MS });
  });

  const statusItem = page.locator(".statusbar-item", { hasText: "LSTM" });
  await step(page, "the status bar reports the model ready", "03-status-ready", async () => {
    await statusItem.filter({ hasText: "LSTM ready" }).waitFor({ timeout: READY_MS });
  });

  let ghost = "";
  await step(page, "typing shows the model's ghost text", "04-ghost-text", async () => {
    await page.locator(".monaco-editor .view-lines").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type(TYPED, { delay: 60 });
    ghost = await retry("ghost text after typing", READY_MS, async () => {
      // The suggestion's first line, in the cursor's line: one decoration per syntax token.
      const text = normalize((await page.locator(".monaco-editor .view-lines .ghost-text-decoration").allTextContents()).join(""));
      if (text.trim() === "") {
        await page.keyboard.press("Alt+Backslash"); // asks for an inline suggestion by hand
        return undefined;
      }
      return text;
    });
    console.log(`e2e: ghost text after ${JSON.stringify(TYPED)}: ${JSON.stringify(ghost)}`);
  });

  await step(page, "Tab accepts the ghost text into the buffer", "05-accepted", async () => {
    await page.keyboard.press("Tab");
    await page.keyboard.press("Escape"); // a next suggestion may appear at once; keep the buffer as it is
    await page.keyboard.press("Control+S");
    const saved = await retry("main.py saved with the suggestion", STEP_MS, () => {
      const text = readFileSync(path.join(config.workspace, "main.py"), "utf8");
      return text !== original ? Promise.resolve(text) : Promise.resolve(undefined);
    });
    const added = saved.slice(original.length);
    const expected = TYPED + ghost;
    if (!saved.startsWith(original) || !added.startsWith(expected)) {
      throw new Error(`main.py should end with ${JSON.stringify(expected)}, but what was added is ${JSON.stringify(added)}`);
    }
  });

  await step(page, "the suggestion list shows the model's items", "06-suggestions", async () => {
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("add_", { delay: 60 });
    const rows = await suggestionRows(page);
    const detail = normalize(await page.locator(".suggest-widget.visible .monaco-list-row.focused .details-label").textContent());
    console.log(`e2e: suggestion list: ${JSON.stringify(rows)}; focused item's detail ${JSON.stringify(detail)}`);
    if (!rows.every((label) => label.startsWith("add_"))) throw new Error(`items should continue "add_": ${JSON.stringify(rows)}`);
    if (!/\d% likely$/.test(detail)) throw new Error(`the focused item should carry the model's probability, not ${JSON.stringify(detail)}`);
  }, () => page.keyboard.press("Escape"));

  await step(page, "the status bar item opens the menu of commands", "07-menu", async () => {
    await statusItem.click();
    for (const label of ["Retrain on this workspace", "Resume learning", "Show status", "Restart the server", "Show the output"]) {
      await page.locator(".quick-input-widget .monaco-list-row", { hasText: label }).waitFor({ timeout: STEP_MS });
    }
    await page.mouse.move(700, 450); // off the status bar, so its tooltip covers nothing
  }, () => page.keyboard.press("Escape"));

  await step(page, "learning is resumed and paused from the menu", "07b-learning", async () => {
    // learningEnabled is false in the workspace settings: the server starts with learning off.
    await statusItem.filter({ hasText: "learning paused" }).waitFor({ timeout: STEP_MS });
    for (const [command, shown] of [["Resume learning", /LSTM ready$/], ["Pause learning", /learning paused/]]) {
      await statusItem.click();
      await page.locator(".quick-input-widget .monaco-list-row", { hasText: command }).click({ timeout: STEP_MS });
      await retry(`the status bar after "${command}"`, STEP_MS, async () =>
        shown.test(normalize(await statusItem.textContent()).trim()) || undefined);
    }
    await page.mouse.move(700, 450);
  });

  await step(page, "a settings change reaches the running server", "08-list-disabled", async () => {
    writeWorkspaceSettings({ ...workspaceSettings, "lstmComplete.listEnabled": false });
    await retry("the suggestion list to come up empty", STEP_MS, async () => {
      await page.keyboard.press("Escape");
      await page.keyboard.press("Control+Space");
      const empty = await page.locator(".suggest-widget.visible", { hasText: "No suggestions" }).waitFor({ timeout: 2000 }).then(() => true, () => false);
      return empty || undefined;
    });
    const starts = serverStarts();
    if (starts !== 1) throw new Error(`the server should have been started once, not ${starts} times`);
  }, () => page.keyboard.press("Escape"));

  await step(page, "a python without the server is reported, with an install action", "09-not-installed", async () => {
    writeWorkspaceSettings({ ...workspaceSettings, "lstmComplete.pythonPath": config.barePython });
    const toast = page.locator(".notification-toast", { hasText: "the server is not installed for" });
    await toast.waitFor({ timeout: STEP_MS });
    await toast.locator(".monaco-button", { hasText: "Install" }).waitFor({ timeout: STEP_MS });
    await statusItem.filter({ hasText: "LSTM not installed" }).click({ timeout: STEP_MS });
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Install the server" }).waitFor({ timeout: STEP_MS });
    await page.mouse.move(700, 450);
  });

  await step(page, "Install puts the bundled server in the extension's environment and starts it", "10-installed", async () => {
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Install the server" }).click({ timeout: STEP_MS });
    // pip installs the wheel from the .vsix and its pinned dependencies: a minute or two.
    await statusItem.filter({ hasText: "LSTM ready" }).waitFor({ timeout: INSTALL_MS });
  });
}

/**
 * Runs one step and takes its screenshot (named -FAILED when it fails); `then` closes what the
 * step left open (a list, a menu) once the screenshot has it.
 */
async function step(page, name, shot, body, then = () => Promise.resolve()) {
  const started = Date.now();
  try {
    await body();
  } catch (error) {
    await page.screenshot({ path: path.join(config.artifacts, `${shot}-FAILED.png`) }).catch(() => undefined);
    throw new Error(`step "${name}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  await page.screenshot({ path: path.join(config.artifacts, `${shot}.png`) });
  await then();
  console.log(`e2e: ok: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** Opens the suggestion list, retrying: the language client starts in the background. */
async function suggestionRows(page) {
  return retry("the suggestion list with items", STEP_MS, async () => {
    await page.keyboard.press("Control+Space");
    const rows = page.locator(".suggest-widget.visible .monaco-list-row .label-name");
    if (!(await rows.first().waitFor({ timeout: 2000 }).then(() => true, () => false))) {
      await page.keyboard.press("Escape");
      return undefined;
    }
    return (await rows.allTextContents()).map(normalize);
  });
}

/** Calls `attempt` until it returns something other than undefined, or fails after `ms`. */
async function retry(what, ms, attempt) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The editor renders spaces as no-break spaces. */
function normalize(text) {
  return (text ?? "").replaceAll("\u00a0", " ");
}

function writeWorkspaceSettings(settings) {
  mkdirSync(path.dirname(settingsFile), { recursive: true });
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
}

/** How often the extension started a server, from its output channel's log file. */
function serverStarts() {
  const logs = findFiles(path.join(userData, "logs"), (name) => name.endsWith("lstm-complete.log"));
  if (logs.length !== 1) throw new Error(`expected one output log of the extension, found ${JSON.stringify(logs)}`);
  return readFileSync(logs[0], "utf8").split("\n").filter((line) => line.includes("Starting: ")).length;
}

function findFiles(dir, wanted) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findFiles(full, wanted);
    return wanted(entry.name) ? [full] : [];
  });
}

function codeServerArgs() {
  // --config: without it code-server writes ~/.config/code-server/config.yaml on first run.
  return [config.codeServer, "--config", path.join(config.scratch, "config.yaml"), "--user-data-dir", userData, "--extensions-dir", extensions];
}

function codeServerCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...codeServerArgs(), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => { output += chunk; });
    child.stderr.on("data", (chunk) => { output += chunk; });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`code-server ${args.join(" ")} failed (${code}): ${output}`));
    });
  });
}

function startCodeServer(port) {
  const args = [...codeServerArgs(), "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry",
    "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", config.workspace];
  // Its own process group: killing it then ends the extension host and the Python server too.
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const log = path.join(config.artifacts, "code-server.log");
  writeFileSync(log, "");
  const append = (chunk) => writeFileSync(log, chunk, { flag: "a" });
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  return child;
}

function stopCodeServer(child) {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, ms) {
  await retry(`answer from ${url}`, ms, async () => {
    try {
      return (await fetch(url)).ok || undefined;
    } catch {
      return undefined;
    }
  });
}
