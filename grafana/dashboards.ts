// The provisioned dashboards as data, for the tests: every PromQL expression,
// runnable against Prometheus once Grafana's variables are given values.
import fs from "node:fs";
import path from "node:path";

export const dashboardsDir = path.join(import.meta.dirname, "dashboards");

export interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: { name: string; datasource?: { type: string; uid: string } }[] };
}

export function loadDashboards(): Record<string, Dashboard> {
  return Object.fromEntries(
    fs
      .readdirSync(dashboardsDir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => [f.replace(/\.json$/, ""), JSON.parse(fs.readFileSync(path.join(dashboardsDir, f), "utf8")) as Dashboard]),
  );
}

/** Grafana's variables as Prometheus needs them: every value of a multi-value variable, a fixed rate interval. */
export function withVariables(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replace(/=~"\$\w+"/g, '=~".*"');
}

export function expressions(dashboard: Dashboard): { panel: string; expr: string }[] {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: withVariables(t.expr) })));
}
