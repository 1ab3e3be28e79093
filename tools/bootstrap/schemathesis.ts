// Schemathesis (PyPI), for the test that runs it against the OpenAPI document
// (test/openapi-contract.test.ts): a virtualenv in the cache, pinned, made
// once; a venv cannot move, so it is made in place and marked complete last.
import fs from "node:fs";
import path from "node:path";
import { ensureDebianPackages } from "./apt.js";
import { runLogged } from "./exec.js";
import { longStep, say } from "./log.js";
import { cacheDir, logDir } from "./paths.js";

export const schemathesisVersion = "4.32.5";

/** The `st` command of a complete install, making it first when needed. */
export async function ensureSchemathesis(): Promise<string> {
  const home = path.join(cacheDir, `schemathesis-${schemathesisVersion}`);
  const st = path.join(home, "bin", "st");
  const complete = path.join(home, ".complete");
  if (fs.existsSync(complete)) {
    say(`schemathesis: using ${schemathesisVersion} (${home})`);
    return st;
  }
  await ensureDebianPackages(["python3-venv"], "Schemathesis, the OpenAPI contract test");
  fs.rmSync(home, { recursive: true, force: true });
  const log = path.join(logDir, "schemathesis.log");
  const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  await longStep(`Installing Schemathesis ${schemathesisVersion} from PyPI into ${home} (log: ${log})`, async () => {
    await runLogged(python, ["-m", "venv", home], log, { step: "python3 -m venv" });
    await runLogged(
      path.join(home, "bin", "pip"),
      ["install", "--disable-pip-version-check", `schemathesis==${schemathesisVersion}`],
      log,
      { step: "pip install schemathesis" },
    );
  });
  fs.writeFileSync(complete, `${schemathesisVersion}\n`);
  return st;
}
