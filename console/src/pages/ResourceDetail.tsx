// One resource: endpoints, the connect panel (credentials revealed on click,
// each read audited by the API), resize, drift refresh, delete with the name
// typed to confirm, the events timeline and its health.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, ApiError, formatMemory, formatTime, type Resource, type ResourceEvent, type TemplateInfo } from "../api";
import { ErrorNote, Section, StatusBadge } from "../components";
import { connectCommands } from "../connect";
import { Link, navigate } from "../router";

function Copy({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="secondary compact"
      aria-label={`Copy ${label}`}
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => setDone(true));
      }}
    >
      {done ? "Copied" : "Copy"}
    </button>
  );
}

export function ResourceDetail({ id }: { id: string }) {
  const [resource, setResource] = useState<Resource>();
  const [template, setTemplate] = useState<TemplateInfo>();
  const [events, setEvents] = useState<ResourceEvent[]>([]);
  const [credentials, setCredentials] = useState<Record<string, string>>();
  const [error, setError] = useState<Error>();
  const [notice, setNotice] = useState<string>();
  const [size, setSize] = useState<string>();
  const [peers, setPeers] = useState<number>();
  const [resizeError, setResizeError] = useState<ApiError>();
  const [confirmName, setConfirmName] = useState("");

  const load = useCallback(async () => {
    try {
      const r = await api<Resource>("GET", `/v1/resources/${id}`);
      setResource(r);
      setEvents((await api<{ events: ResourceEvent[] }>("GET", `/v1/resources/${id}/events`)).events);
      const catalogue = await api<{ templates: TemplateInfo[] }>("GET", "/v1/templates");
      setTemplate(catalogue.templates.find((t) => t.id === r.template));
    } catch (e) {
      setError(e as Error);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  if (!resource)
    return (
      <main id="main" className="page">
        <ErrorNote error={error} />
        {!error && <p>Loading…</p>}
      </main>
    );

  const reveal = async () => {
    try {
      setCredentials((await api<{ credentials: Record<string, string> }>("GET", `/v1/resources/${id}/credentials`)).credentials);
    } catch (e) {
      setError(e as Error);
    }
  };

  const resize = async (event: FormEvent) => {
    event.preventDefault();
    setResizeError(undefined);
    const body = {
      ...(size && size !== resource.size && { size }),
      ...(peers !== undefined && peers !== resource.options.peers && { options: { peers } }),
    };
    if (Object.keys(body).length === 0) {
      setResizeError(new ApiError(400, "nothing", "Choose another size or number of peers.", [{ field: "size", message: "is unchanged" }]));
      return;
    }
    try {
      await api("PATCH", `/v1/resources/${id}`, body);
      navigate(`/resources/${id}/progress`);
    } catch (e) {
      setResizeError(e instanceof ApiError ? e : new ApiError(0, "error", (e as Error).message));
    }
  };

  const refresh = async () => {
    try {
      await api("POST", `/v1/resources/${id}/refresh`);
      setNotice("Drift check queued: its result appears under Health when it has run.");
      navigate(`/resources/${id}/progress`);
    } catch (e) {
      setError(e as Error);
    }
  };

  const remove = async (event: FormEvent) => {
    event.preventDefault();
    if (confirmName !== resource.name) return;
    try {
      await api("DELETE", `/v1/resources/${id}`);
      navigate(`/resources/${id}/progress`);
    } catch (e) {
      setError(e as Error);
    }
  };

  const deleted = resource.status === "DELETED";
  const commands = resource.endpoint ? connectCommands(resource.template, resource.endpoint, credentials) : [];
  const hasPeers = typeof resource.options.peers === "number";

  return (
    <main id="main" className="page">
      <p className="crumbs">
        <Link to="/">Resources</Link> / {resource.name}
      </p>
      <div className="title-row">
        <h1>{resource.name}</h1>
        <StatusBadge status={resource.status} />
      </div>
      <ErrorNote error={error} />
      {notice && <p role="status">{notice}</p>}
      <dl className="facts">
        <dt>Template</dt>
        <dd>{resource.template}</dd>
        <dt>Size</dt>
        <dd>
          {resource.size}
          {template?.sizeSpecs[resource.size] &&
            ` (${template.sizeSpecs[resource.size]!.cpus} CPU · ${formatMemory(template.sizeSpecs[resource.size]!.memoryMb)} · ${template.sizeSpecs[resource.size]!.storageGb} GB)`}
        </dd>
        <dt>Options</dt>
        <dd>
          <code>{JSON.stringify(resource.options)}</code>
        </dd>
        <dt>Target</dt>
        <dd>{resource.target}</dd>
        <dt>Created</dt>
        <dd>{formatTime(resource.createdAt)}</dd>
        <dt>Stage</dt>
        <dd>
          {resource.stage ?? "—"} ({resource.progress}%) · <Link to={`/resources/${id}/progress`}>progress</Link>
        </dd>
      </dl>

      <Section title="Health">
        <p>
          {resource.status === "ACTIVE" && "Healthy: the last checks passed."}
          {resource.status === "DEGRADED" && "Degraded: a health check failed."}
          {!["ACTIVE", "DEGRADED"].includes(resource.status) && `Status ${resource.status}.`}
        </p>
        {resource.lastError && <pre className="log">{resource.lastError}</pre>}
        <p>Drift: {resource.drift ? <code>{JSON.stringify(resource.drift)}</code> : "none recorded"}</p>
        {!deleted && (
          <button type="button" className="secondary" onClick={() => void refresh()}>
            Check for drift (refresh)
          </button>
        )}
      </Section>

      {resource.endpoint && (
        <Section title="Endpoints">
          <table>
            <tbody>
              {Object.entries(resource.endpoint).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <code className="wrap" data-endpoint={k}>
                      {v}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}

      {resource.endpoint && !deleted && (
        <Section title="Connect">
          {!credentials ? (
            <button type="button" onClick={() => void reveal()}>
              Reveal credentials
            </button>
          ) : (
            <>
              <p className="help">Revealed: this read is in the team&apos;s audit log.</p>
              <dl className="facts credentials">
                {Object.entries(credentials).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>
                      <code className="wrap" data-credential={k}>
                        {v}
                      </code>
                    </dd>
                  </div>
                ))}
              </dl>
            </>
          )}
          {commands.map((c) => (
            <div key={c.label} className="command">
              <div className="command-head">
                <span>{c.label}</span>
                <Copy text={c.command} label={c.label} />
              </div>
              <pre tabIndex={0} aria-label={c.label}>
                {c.command}
              </pre>
            </div>
          ))}
        </Section>
      )}

      {!deleted && template && (
        <Section title="Resize">
          <form onSubmit={(e) => void resize(e)} noValidate>
            <div className="field">
              <label htmlFor="resize-size">Size</label>
              <select
                id="resize-size"
                value={size ?? resource.size}
                onChange={(e) => setSize(e.target.value)}
                aria-invalid={resizeError?.field("size") ? true : undefined}
                aria-describedby="resize-size-error"
              >
                {template.sizes.map((s) => (
                  <option key={s} value={s}>
                    {s}: {template.sizeSpecs[s]!.cpus} CPU · {formatMemory(template.sizeSpecs[s]!.memoryMb)} ·{" "}
                    {template.sizeSpecs[s]!.storageGb} GB
                  </option>
                ))}
              </select>
              {resizeError?.field("size") && (
                <p id="resize-size-error" className="field-error" role="alert">
                  {resizeError.field("size")}
                </p>
              )}
            </div>
            {hasPeers && (
              <div className="field">
                <label htmlFor="resize-peers">Peers</label>
                <input
                  id="resize-peers"
                  type="number"
                  min={1}
                  max={9}
                  value={peers ?? Number(resource.options.peers)}
                  onChange={(e) => setPeers(Number(e.target.value))}
                  aria-invalid={resizeError?.field("options.peers") ? true : undefined}
                  aria-describedby="resize-peers-error"
                />
                {resizeError?.field("options.peers") && (
                  <p id="resize-peers-error" className="field-error" role="alert">
                    {resizeError.field("options.peers")}
                  </p>
                )}
              </div>
            )}
            {resizeError && !resizeError.fields.length && <ErrorNote error={resizeError} />}
            <button type="submit">Apply</button>
          </form>
        </Section>
      )}

      <Section title="Events">
        <ol className="timeline">
          {[...events]
            .reverse()
            .slice(0, 50)
            .map((e) => (
              <li key={e.id}>
                <time dateTime={e.createdAt}>{formatTime(e.createdAt)}</time> <strong>{e.stage}</strong> {e.progress}% — {e.message}
              </li>
            ))}
        </ol>
      </Section>

      {!deleted && resource.status !== "DELETING" && (
        <Section title="Delete">
          <form onSubmit={(e) => void remove(e)}>
            <p>
              Deleting destroys the resource and its data. Type <strong>{resource.name}</strong> to confirm.
            </p>
            <div className="field">
              <label htmlFor="confirm-name">Name of the resource</label>
              <input id="confirm-name" value={confirmName} autoComplete="off" onChange={(e) => setConfirmName(e.target.value)} />
            </div>
            <button type="submit" className="danger" disabled={confirmName !== resource.name}>
              Delete {resource.name}
            </button>
          </form>
        </Section>
      )}
    </main>
  );
}
