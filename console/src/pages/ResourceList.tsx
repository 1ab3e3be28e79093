import { useCallback, useEffect, useState } from "react";
import { api, formatTime, type Resource, type TeamEvent, type TemplateInfo } from "../api";
import { ErrorNote, StatusBadge } from "../components";
import { Link } from "../router";

const statuses = ["PROVISIONING", "ACTIVE", "UPDATING", "DEGRADED", "FAILED", "DELETING", "DELETED"];

export function ResourceList() {
  const [resources, setResources] = useState<Resource[]>();
  const [templates, setTemplates] = useState<string[]>([]);
  const [status, setStatus] = useState("");
  const [template, setTemplate] = useState("");
  const [error, setError] = useState<Error>();
  const [live, setLive] = useState(false);

  const load = useCallback(async () => {
    const query = new URLSearchParams({ limit: "100", ...(status && { status }), ...(template && { template }) });
    try {
      setResources((await api<{ resources: Resource[] }>("GET", `/v1/resources?${query}`)).resources);
      setError(undefined);
    } catch (e) {
      setError(e as Error);
    }
  }, [status, template]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    void api<{ templates: TemplateInfo[] }>("GET", "/v1/templates").then((c) => setTemplates(c.templates.map((t) => t.id)));
  }, []);

  // One team-wide stream: every event of the team's resources updates its row.
  useEffect(() => {
    const source = new EventSource("/v1/events");
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    const onEvent = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as TeamEvent;
      setResources((current) => {
        if (!current) return current;
        if (!current.some((r) => r.id === event.resourceId)) {
          void load();
          return current;
        }
        return current.map((r) =>
          r.id === event.resourceId ? { ...r, status: event.status, stage: event.stage, progress: event.progress } : r,
        );
      });
    };
    for (const stage of [
      "initialising",
      "allocating",
      "configuring",
      "provisioning",
      "verifying",
      "complete",
      "failed",
      "cancelled",
      "queued",
      "health",
    ])
      source.addEventListener(stage, onEvent);
    source.onmessage = onEvent;
    return () => source.close();
  }, [load]);

  return (
    <main id="main" className="page">
      <div className="title-row">
        <h1>Resources</h1>
        <Link className="button" to="/new">
          New resource
        </Link>
      </div>
      <div className="filters" role="group" aria-label="Filters">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            {statuses.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Template
          <select value={template} onChange={(e) => setTemplate(e.target.value)}>
            <option value="">All</option>
            {templates.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <span className={`live ${live ? "on" : ""}`} aria-live="polite">
          {live ? "Live updates on" : "Connecting live updates…"}
        </span>
      </div>
      <ErrorNote error={error} />
      {resources && resources.length === 0 && (
        <p>
          No resources yet. <Link to="/new">Create one</Link>.
        </p>
      )}
      {resources && resources.length > 0 && (
        <table className="resources">
          <caption className="visually-hidden">The team&apos;s resources, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Template</th>
              <th scope="col">Size</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {resources.map((r) => (
              <tr key={r.id} data-resource={r.name}>
                <td data-label="Name">
                  <Link
                    to={["PROVISIONING", "UPDATING", "DELETING"].includes(r.status) ? `/resources/${r.id}/progress` : `/resources/${r.id}`}
                  >
                    {r.name}
                  </Link>
                </td>
                <td data-label="Template">{r.template}</td>
                <td data-label="Size">{r.size}</td>
                <td data-label="Status">
                  <StatusBadge status={r.status} />
                </td>
                <td data-label="Progress">
                  {r.stage ?? "—"} {r.progress}%
                </td>
                <td data-label="Created">{formatTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
