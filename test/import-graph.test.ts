// What the API process loads at start: its static value imports, followed
// through every module (type-only imports and lazy import() calls aside).
// The lint rule checks each import; this checks where they lead.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "..");

function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const named = clause?.namedBindings;
      const typeOnly =
        clause?.isTypeOnly ||
        (clause &&
          !clause.name &&
          named &&
          ts.isNamedImports(named) &&
          named.elements.length > 0 &&
          named.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && !statement.isTypeOnly) {
      const named = statement.exportClause;
      if (named && ts.isNamedExports(named) && named.elements.every((e) => e.isTypeOnly)) continue;
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return specifiers;
}

/** Repository files (relative) and packages the entry loads. */
function loadedBy(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    const relative = path.relative(repoRoot, file);
    if (files.has(relative)) return;
    files.add(relative);
    for (const specifier of valueImports(file)) {
      if (specifier.startsWith(".")) visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".ts")));
      else if (!specifier.startsWith("node:"))
        packages.add(
          specifier
            .split("/")
            .slice(0, specifier.startsWith("@") ? 2 : 1)
            .join("/"),
        );
    }
  };
  visit(path.join(repoRoot, entry));
  return { files, packages };
}

describe("the API process's imports", () => {
  const { files, packages } = loadedBy("api/main.ts");

  it("load no engine SDK: no @pulumi package, no component that builds Pulumi resources", () => {
    expect([...packages].filter((p) => p.startsWith("@pulumi/"))).toEqual([]);
    expect(
      [...files].filter(
        (f) =>
          f.startsWith("components/") &&
          !f.startsWith("components/templates/") &&
          !f.startsWith("components/model/") &&
          // The price table (issue 15): data, like the templates.
          !f.startsWith("components/prices/") &&
          f !== "components/images.ts" &&
          f !== "components/versions.ts",
      ),
    ).toEqual([]);
  });

  it("reach the automation only through its interface and the modules it names", () => {
    const automation = [...files].filter((f) => f.startsWith("automation/")).sort();
    expect(automation).toEqual([
      "automation/docker-isolation.ts",
      "automation/index.ts",
      // A Kubernetes database's backup store and Jobs (@kubernetes/client-node, loaded on first use).
      "automation/kubernetes-backups.ts",
      "automation/operation-queue.ts",
      "automation/readiness.ts",
      // The scheduled restore verification's scratch container (docker run, no engine).
      "automation/restore-check.ts",
      "automation/stack-names.ts",
      "automation/worker-process.ts",
    ]);
  });

  it("the worker's entry does load the engine (the check above is not vacuous)", () => {
    expect([...loadedBy("automation/worker-main.ts").packages]).toContain("@pulumi/pulumi");
  });
});
