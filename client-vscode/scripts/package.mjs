// Packages the extension into a .vsix at the top level, from a staging folder that holds only
// what ships. Run from the top level, vsce walks the whole repository (the Python virtual
// environment, the editor tests' cache) and matches every file against .vscodeignore: minutes.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");
const stage = path.join(root, "client-vscode", "build", "vsix");
const shipped = ["package.json", "client-vscode/dist/extension.js", "client-vscode/README.md"];

rmSync(stage, { recursive: true, force: true });
for (const file of shipped) {
  mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
  cpSync(path.join(root, file), path.join(stage, file));
}
// The server itself, for the Install action: a wheel of this checkout (trainer, server and the
// base model) and the constraints it was tested with.
const python = process.env.PYTHON ?? "python3";
const wheels = path.join(stage, "python");
execFileSync(python, ["-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", wheels, root], { stdio: "inherit" });
cpSync(path.join(root, "constraints.txt"), path.join(wheels, "constraints.txt"));
const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const out = path.join(root, `${manifest.name}-${manifest.version}.vsix`);
execFileSync(
  path.join(root, "node_modules", ".bin", "vsce"),
  [
    "package",
    "--no-dependencies", // bundled by esbuild: node_modules does not ship
    "--readme-path", "client-vscode/README.md",
    "--allow-missing-repository", // a private product: no public repository to name
    "--skip-license", // the license is the project's, stated in package.json
    "--out", out,
  ],
  { cwd: stage, stdio: "inherit" },
);
