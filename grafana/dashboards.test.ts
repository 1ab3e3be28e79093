import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { dashboardsDir, expressions, loadDashboards, withVariables } from "./dashboards.js";

const datasources = parse(fs.readFileSync(path.join(import.meta.dirname, "provisioning", "datasources", "prometheus.yml"), "utf8")) as {
  datasources: { uid: string; type: string }[];
};

/** Every `datasource` reference anywhere in a dashboard. */
function datasourceRefs(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => datasourceRefs(v, found));
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (key === "datasource") found.push(v);
      else datasourceRefs(v, found);
    }
  }
  return found;
}

describe("Grafana dashboards", () => {
  const dashboards = loadDashboards();

  it("are the control plane, IPFS and PostgreSQL dashboards, each valid JSON with a unique uid", () => {
    expect(Object.keys(dashboards)).toEqual(["control-plane", "ipfs", "postgres"]);
    for (const file of fs.readdirSync(dashboardsDir))
      expect(() => JSON.parse(fs.readFileSync(path.join(dashboardsDir, file), "utf8")) as unknown).not.toThrow();
    const uids = Object.values(dashboards).map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(Object.keys(loadDashboards()))("%s: panel ids are unique and every panel queries something", (name) => {
    const ids = dashboards[name]!.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboards[name]!.panels) expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
  });

  it("reference only the provisioned Prometheus datasource", () => {
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: "prometheus", type: "prometheus" })]);
    for (const dashboard of Object.values(dashboards)) {
      const refs = datasourceRefs(dashboard);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(ref).toEqual({ type: "prometheus", uid: "prometheus" });
    }
  });

  it("give every variable a value Prometheus can run", () => {
    expect(withVariables('rate(x{team=~"$team"}[$__rate_interval])')).toBe('rate(x{team=~".*"}[1m])');
    for (const dashboard of Object.values(dashboards)) for (const { expr } of expressions(dashboard)) expect(expr).not.toContain("$");
  });
});
