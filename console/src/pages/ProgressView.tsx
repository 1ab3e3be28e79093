// The live progress of a resource's latest operation: the six stages as they
// arrive (SSE), "n of m" while the engine applies changes, the engine's
// redacted messages, cancel, and "try again" pre-filled after a failure.
import { useEffect, useState } from "react";
import { api, ApiError, formatTime, type Resource, type ResourceEvent } from "../api";
import { ErrorNote, StatusBadge } from "../components";
import { Link, navigate } from "../router";

const stages = ["initialising", "allocating", "configuring", "provisioning", "verifying", "complete"] as const;
const terminal = new Set(["complete", "failed", "cancelled"]);

export function ProgressView({ id }: { id: string }) {
  const [resource, setResource] = useState<Resource>();
  const [events, setEvents] = useState<ResourceEvent[]>([]);
  const [error, setError] = useState<Error>();
  const [cancelling, setCancelling] = useState(false);

  useEffect(() => {
    const load = () => api<Resource>("GET", `/v1/resources/${id}`).then(setResource, setError);
    void load();
    const source = new EventSource(`/v1/resources/${id}/events`);
    const onEvent = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as ResourceEvent;
      setEvents((all) => (all.some((e) => e.id === event.id) ? all : [...all, event]));
      void load();
    };
    for (const stage of [...stages, "failed", "cancelled", "queued", "health"]) source.addEventListener(stage, onEvent);
    source.onmessage = onEvent;
    return () => source.close();
  }, [id]);

  // The latest operation's events.
  const operationId = [...events].reverse().find((e) => e.operationId)?.operationId;
  const current = events.filter((e) => e.operationId === operationId);
  const last = current.at(-1);
  const reached = (stage: string) => current.some((e) => e.stage === stage);
  const ended = last && terminal.has(last.stage);
  const failedAt =
    last && (last.stage === "failed" || last.stage === "cancelled")
      ? [...current].reverse().find((e) => (stages as readonly string[]).includes(e.stage))?.stage
      : undefined;
  const counts = [...current].reverse().find((e) => e.stage === "provisioning" && e.detail && "total" in e.detail)?.detail as
    { done: number; total: number } | undefined;
  const progress = last?.progress ?? resource?.progress ?? 0;

  const cancel = async () => {
    setCancelling(true);
    try {
      await api("POST", `/v1/resources/${id}/cancel`);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 409 ? new Error("Nothing is running any more.") : (e as Error));
    } finally {
      setCancelling(false);
    }
  };

  return (
    <main id="main" className="page">
      <p className="crumbs">
        <Link to="/">Resources</Link> / {resource?.name ?? "…"}
      </p>
      <div className="title-row">
        <h1>{resource ? `${resource.name}: progress` : "Progress"}</h1>
        {resource && <StatusBadge status={resource.status} />}
      </div>
      <ErrorNote error={error} />
      <progress className="overall" max={100} value={progress} aria-label={`Overall progress ${progress}%`} />
      <ol className="stages" aria-label="Stages">
        {stages.map((stage) => {
          const state =
            failedAt === stage
              ? "failed"
              : reached(stage) && (last?.stage !== stage || stage === "complete")
                ? "done"
                : last?.stage === stage
                  ? "current"
                  : reached(stage)
                    ? "done"
                    : "pending";
          return (
            <li key={stage} className={`stage ${state}`} data-stage={stage} data-state={state}>
              <span className="stage-name">{stage}</span>
              <span className="stage-state">
                {state === "done" ? "done" : state === "current" ? "in progress" : state === "failed" ? "failed here" : "waiting"}
                {stage === "provisioning" && counts ? ` · ${counts.done} of ${counts.total} resources` : ""}
              </span>
            </li>
          );
        })}
      </ol>
      <div aria-live="polite" className="status-line">
        {last ? `${last.stage}: ${last.message}` : "Waiting for the first event…"}
      </div>
      <div className="actions">
        {!ended && resource && ["PROVISIONING", "UPDATING", "DELETING"].includes(resource.status) && (
          <button type="button" className="danger" onClick={() => void cancel()} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel"}
          </button>
        )}
        {resource?.status === "FAILED" && (
          <button type="button" onClick={() => navigate(`/new?from=${id}`)}>
            Try again
          </button>
        )}
        {resource && resource.status !== "DELETED" && (
          <Link className="button secondary" to={`/resources/${id}`}>
            Resource details
          </Link>
        )}
      </div>
      {resource?.lastError && (
        <div className="error" role="alert">
          <strong>Last error:</strong> <pre>{resource.lastError}</pre>
        </div>
      )}
      <h2>Engine log (redacted)</h2>
      <pre className="log" tabIndex={0} aria-label="Engine log tail">
        {current
          .slice(-40)
          .map((e) => `${formatTime(e.createdAt)}  ${e.stage.padEnd(12)} ${String(e.progress).padStart(3)}%  ${e.message}`)
          .join("\n") || "No output yet."}
      </pre>
    </main>
  );
}
