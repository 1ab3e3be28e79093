// The create wizard: template → configure (a form generated from the
// template's options JSON Schema; sizes as CPU / memory / storage) → review
// (the team's quota and this resource's effect on it) → submit.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, formatMemory, nameProblem, type JsonSchema, type Resource, type TeamDetail, type TemplateInfo } from "../api";
import { ErrorNote, Meter } from "../components";
import { navigate, useLocation } from "../router";

type Step = "template" | "configure" | "review";

/** `web` → `web-2`, `web-2` → `web-3`: a failed resource keeps its name until it is deleted. */
function nextName(name: string): string {
  const match = /^(.*)-(\d+)$/.exec(name);
  const next = match ? `${match[1]}-${Number(match[2]) + 1}` : `${name}-2`;
  return next.slice(0, 40);
}

/** A value as an input shows it (objects go through the JSON field instead). */
const text = (value: unknown): string =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : "";

const typeOf = (schema: JsonSchema) => (Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type);

function OptionField({
  name,
  schema,
  value,
  error,
  onChange,
}: {
  name: string;
  schema: JsonSchema;
  value: unknown;
  error?: string;
  onChange: (value: unknown) => void;
}) {
  const id = `option-${name}`;
  const describedBy = [schema.description && `${id}-help`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  const help = schema.description && (
    <p id={`${id}-help`} className="help">
      {schema.description}
    </p>
  );
  const errorNote = error && (
    <p id={`${id}-error`} className="field-error" role="alert">
      {error}
    </p>
  );
  const type = typeOf(schema);
  if (type === "boolean")
    return (
      <div className="field checkbox">
        <input
          id={id}
          type="checkbox"
          checked={Boolean(value ?? schema.default)}
          onChange={(e) => onChange(e.target.checked)}
          aria-describedby={describedBy}
          aria-invalid={error ? true : undefined}
        />
        <label htmlFor={id}>{name}</label>
        {help}
        {errorNote}
      </div>
    );
  if (schema.enum)
    return (
      <div className="field">
        <label htmlFor={id}>{name}</label>
        <select id={id} value={text(value ?? schema.default)} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy}>
          {schema.enum.map((v) => (
            <option key={text(v)}>{text(v)}</option>
          ))}
        </select>
        {help}
        {errorNote}
      </div>
    );
  if (type === "integer" || type === "number")
    return (
      <div className="field">
        <label htmlFor={id}>{name}</label>
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={schema.minimum}
          max={schema.maximum}
          value={text(value ?? schema.default)}
          onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
          aria-describedby={describedBy}
          aria-invalid={error ? true : undefined}
        />
        {help}
        {errorNote}
      </div>
    );
  if (type === "string")
    return (
      <div className="field">
        <label htmlFor={id}>{name}</label>
        <input
          id={id}
          value={text(value ?? schema.default)}
          onChange={(e) => onChange(e.target.value || undefined)}
          aria-describedby={describedBy}
          aria-invalid={error ? true : undefined}
        />
        {help}
        {errorNote}
      </div>
    );
  // Lists and objects (cloud settings): JSON.
  return (
    <div className="field">
      <label htmlFor={id}>{name} (JSON)</label>
      <textarea
        id={id}
        rows={2}
        defaultValue={value === undefined ? "" : JSON.stringify(value)}
        onChange={(e) => {
          try {
            onChange(e.target.value.trim() ? JSON.parse(e.target.value) : undefined);
          } catch {
            onChange(e.target.value);
          }
        }}
        aria-describedby={describedBy}
        aria-invalid={error ? true : undefined}
      />
      {help}
      {errorNote}
    </div>
  );
}

export function CreateWizard() {
  const { query } = useLocation();
  const from = query.get("from");
  const [catalogue, setCatalogue] = useState<TemplateInfo[]>();
  const [team, setTeam] = useState<TeamDetail>();
  const [step, setStep] = useState<Step>("template");
  const [templateId, setTemplateId] = useState<string>();
  const [name, setName] = useState("");
  const [size, setSize] = useState<string>();
  const [options, setOptions] = useState<Record<string, unknown>>({});
  const [nameError, setNameError] = useState<string>();
  const [serverError, setServerError] = useState<ApiError>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);

  useEffect(() => {
    api<{ templates: TemplateInfo[] }>("GET", "/v1/templates").then((c) => setCatalogue(c.templates), setError);
    api<TeamDetail>("GET", "/v1/team").then(setTeam, setError);
  }, []);

  // "Try again" after a failure: the failed request's choices, under a new name.
  useEffect(() => {
    if (!from) return;
    api<Resource>("GET", `/v1/resources/${from}`).then((r) => {
      setTemplateId(r.template);
      setSize(r.size);
      setOptions(r.options);
      setName(nextName(r.name));
      setStep("configure");
    }, setError);
  }, [from]);

  const template = catalogue?.find((t) => t.id === templateId);
  const chosenSize = size ?? template?.defaultSize;
  const detail = template && chosenSize ? template.sizeSpecs[chosenSize] : undefined;
  const properties = Object.entries(template?.parameters.properties ?? {});
  const fieldError = (field: string) => serverError?.field(field);

  const toReview = (event: FormEvent) => {
    event.preventDefault();
    const problem = nameProblem(name);
    setNameError(problem);
    setServerError(undefined);
    if (problem) {
      document.getElementById("resource-name")?.focus();
      return;
    }
    setStep("review");
  };

  const submit = async () => {
    if (!template) return;
    setBusy(true);
    setServerError(undefined);
    try {
      const body = { template: template.id, name, size: chosenSize, options };
      const response = await fetchCreate(body, idempotencyKey);
      navigate(`/resources/${response.resource.id}/progress`);
    } catch (e) {
      if (e instanceof ApiError) {
        setServerError(e);
        // Field errors are shown next to their fields, on the form.
        if (e.fields.length) setStep("configure");
      } else setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const known = new Set(["name", "size", "template", ...properties.map(([p]) => `options.${p}`)]);
  const otherFieldErrors = serverError?.fields.filter((f) => !known.has(f.field)) ?? [];

  return (
    <main id="main" className="page">
      <h1>New resource</h1>
      <ol className="steps" aria-label="Steps">
        {(["template", "configure", "review"] as const).map((s, i) => (
          <li key={s} aria-current={step === s ? "step" : undefined} className={step === s ? "current" : ""}>
            {i + 1}. {s === "template" ? "Template" : s === "configure" ? "Configure" : "Review"}
          </li>
        ))}
      </ol>
      <ErrorNote error={error} />

      {step === "template" && (
        <section aria-labelledby="choose-template">
          <h2 id="choose-template">Choose a template</h2>
          <div className="cards">
            {catalogue?.map((t) => (
              <button
                key={t.id}
                type="button"
                className={`template-card ${t.id === templateId ? "selected" : ""}`}
                aria-pressed={t.id === templateId}
                onClick={() => {
                  setTemplateId(t.id);
                  setSize(t.defaultSize);
                  setOptions({});
                  setStep("configure");
                }}
              >
                <strong>{t.id}</strong>
                <span>{t.description}</span>
                <span className="small">
                  from {t.sizeSpecs[t.defaultSize]?.cpus} CPU · {formatMemory(t.sizeSpecs[t.defaultSize]?.memoryMb ?? 0)} ·{" "}
                  {t.sizeSpecs[t.defaultSize]?.storageGb} GB
                </span>
              </button>
            ))}
          </div>
        </section>
      )}

      {step === "configure" && template && (
        <form onSubmit={toReview} noValidate aria-labelledby="configure-title">
          <h2 id="configure-title">Configure {template.id}</h2>
          <div className="field">
            <label htmlFor="resource-name">Name</label>
            <input
              id="resource-name"
              name="name"
              value={name}
              autoComplete="off"
              onChange={(e) => {
                setName(e.target.value);
                if (nameError) setNameError(nameProblem(e.target.value));
              }}
              aria-invalid={nameError || fieldError("name") ? true : undefined}
              aria-describedby="resource-name-help resource-name-error"
              required
            />
            <p id="resource-name-help" className="help">
              Lowercase letters, digits and &apos;-&apos;; unique among the team&apos;s resources.
            </p>
            {(nameError ?? fieldError("name")) && (
              <p id="resource-name-error" className="field-error" role="alert">
                {nameError ?? fieldError("name")}
              </p>
            )}
          </div>
          <fieldset className="sizes">
            <legend>Size</legend>
            {template.sizes.map((s) => {
              const d = template.sizeSpecs[s]!;
              return (
                <label key={s} className={`size-option ${s === chosenSize ? "selected" : ""}`}>
                  <input type="radio" name="size" value={s} checked={s === chosenSize} onChange={() => setSize(s)} />
                  <strong>{s}</strong>
                  <span>
                    {d.cpus} CPU · {formatMemory(d.memoryMb)} memory · {d.storageGb} GB storage
                  </span>
                </label>
              );
            })}
            {fieldError("size") && (
              <p className="field-error" role="alert">
                {fieldError("size")}
              </p>
            )}
          </fieldset>
          {properties.length > 0 && (
            <fieldset>
              <legend>Options</legend>
              {properties.map(([property, schema]) => (
                <OptionField
                  key={property}
                  name={property}
                  schema={schema}
                  value={options[property]}
                  error={fieldError(`options.${property}`)}
                  onChange={(v) => setOptions((o) => ({ ...o, [property]: v }))}
                />
              ))}
            </fieldset>
          )}
          {serverError && (otherFieldErrors.length > 0 || serverError.fields.length === 0) && (
            <div className="error" role="alert">
              <p>{serverError.message}</p>
              {otherFieldErrors.length > 0 && (
                <ul>
                  {otherFieldErrors.map((f) => (
                    <li key={f.field}>
                      <code>{f.field}</code>: {f.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setStep("template")}>
              Back
            </button>
            <button type="submit">Review</button>
          </div>
        </form>
      )}

      {step === "review" && template && detail && (
        <section aria-labelledby="review-title">
          <h2 id="review-title">Review</h2>
          <dl className="facts">
            <dt>Template</dt>
            <dd>{template.id}</dd>
            <dt>Name</dt>
            <dd>{name}</dd>
            <dt>Size</dt>
            <dd>
              {chosenSize}: {detail.cpus} CPU · {formatMemory(detail.memoryMb)} · {detail.storageGb} GB
            </dd>
            <dt>Options</dt>
            <dd>
              <code>{JSON.stringify(options)}</code>
            </dd>
          </dl>
          {team && (
            <div className="card">
              <h3>Quota of the {team.tier} tier after this resource</h3>
              <Meter label="Resources" usage={team.quota.resources} adding={1} />
              <Meter label="CPU" usage={team.quota.cpus} adding={detail.footprint.cpus} />
              <Meter label="Memory" usage={team.quota.memoryMb} adding={detail.footprint.memoryMb} unit={formatMemory} />
              <p className="help">CPU and memory at the default options; the service checks the exact figures.</p>
            </div>
          )}
          {serverError && !serverError.fields.length && <ErrorNote error={serverError} />}
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setStep("configure")}>
              Back
            </button>
            <button type="button" onClick={() => void submit()} disabled={busy}>
              {busy ? "Creating…" : "Create"}
            </button>
          </div>
        </section>
      )}
    </main>
  );
}

/** POST /v1/resources with an Idempotency-Key: a double click creates one resource. */
async function fetchCreate(body: unknown, key: string): Promise<{ resource: Resource }> {
  return api<{ resource: Resource }>("POST", "/v1/resources", body, { "idempotency-key": key });
}
