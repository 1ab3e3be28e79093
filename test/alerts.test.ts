// prometheus/alerts.yml: valid for Prometheus (`promtool check rules`) and
// proven by its unit tests (`promtool test rules prometheus/alerts.test.yml`:
// each alert fires on the series that should raise it, and only then).
// promtool comes with Debian's prometheus package, which `npm test` installs
// for the monitoring test; test/monitoring.test.ts loads the rules into a
// real Prometheus.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const prometheusDir = path.resolve(import.meta.dirname, "..", "prometheus");

const promtool = (...args: string[]) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile("promtool", args, { cwd: prometheusDir }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
      resolve({ code, output: `${stdout}\n${stderr}${error && code === 127 ? `\n${error.message}` : ""}` });
    });
  });

describe("prometheus/alerts.yml", () => {
  it("passes promtool check rules, with the alerts the issue asks for", async () => {
    const { code, output } = await promtool("check", "rules", "alerts.yml");
    expect(code, output).toBe(0);
    expect(output).toContain("SUCCESS: 4 rules found");
  });

  it("fires each alert on the series that should raise it, and not otherwise (promtool test rules)", async () => {
    const { code, output } = await promtool("test", "rules", "alerts.test.yml");
    expect(code, output).toBe(0);
    expect(output).toContain("SUCCESS");
  });

  it("is the rule file prometheus.yml loads", () => {
    const config = parse(fs.readFileSync(path.join(prometheusDir, "prometheus.yml"), "utf8")) as { rule_files?: string[] };
    expect(config.rule_files).toEqual(["alerts.yml"]);
  });
});
