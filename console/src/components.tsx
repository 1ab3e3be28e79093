// Pieces several pages share.
import type { ReactNode } from "react";
import type { Usage } from "./api";

const badgeClass: Record<string, string> = {
  ACTIVE: "ok",
  PROVISIONING: "busy",
  UPDATING: "busy",
  DELETING: "busy",
  DEGRADED: "warn",
  FAILED: "bad",
  DELETED: "off",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${badgeClass[status] ?? "off"}`}>{status}</span>;
}

export function ErrorNote({ error }: { error?: Error | string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {typeof error === "string" ? error : error.message}
    </p>
  );
}

export function Meter({ label, usage, unit, adding = 0 }: { label: string; usage: Usage; unit?: (n: number) => string; adding?: number }) {
  const show = unit ?? ((n: number) => String(n));
  const after = usage.used + adding;
  const over = after > usage.limit + 1e-9;
  return (
    <div className="meter">
      <div className="meter-label">
        <span>{label}</span>
        <span>
          {show(usage.used)}
          {adding ? ` + ${show(adding)} = ${show(Math.round(after * 100) / 100)}` : ""} of {show(usage.limit)}
          {over && <strong className="over"> — over the quota</strong>}
        </span>
      </div>
      <progress max={usage.limit} value={Math.min(after, usage.limit)} aria-label={`${label}: ${show(after)} of ${show(usage.limit)}`} />
    </div>
  );
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  return (
    <section className="card" aria-labelledby={id ?? title.toLowerCase().replace(/\W+/g, "-")}>
      <h2 id={id ?? title.toLowerCase().replace(/\W+/g, "-")}>{title}</h2>
      {children}
    </section>
  );
}
