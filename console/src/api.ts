// Every call to the service: same origin, the session cookie (HttpOnly: this
// code never sees it) and the session's CSRF token on state-changing requests.
// The API key is sent once, to sign in, and never kept.

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }

  /** The message for one field (`name`, `options.peers`), if the API named it. */
  field(name: string): string | undefined {
    return this.fields.find((f) => f.field === name)?.message;
  }
}

let csrfToken: string | undefined;
let onSignedOut: () => void = () => undefined;

export function setSession(token: string | undefined, signedOut?: () => void): void {
  csrfToken = token;
  if (signedOut) onSignedOut = signedOut;
}

export async function api<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { code: string; message: string; fields?: FieldError[] } } | undefined)?.error;
    if (response.status === 401 && path !== "/v1/sessions") onSignedOut();
    throw new ApiError(response.status, error?.code ?? "http_error", error?.message ?? `HTTP ${response.status}`, error?.fields);
  }
  return parsed as T;
}

export interface Team {
  id: string;
  name: string;
  tier: string;
}
export interface SessionInfo {
  team: Team;
  session: { csrfToken: string; expiresAt: string } | null;
}
export interface Usage {
  used: number;
  limit: number;
}
export interface TeamDetail extends Team {
  quota: { resources: Usage; cpus: Usage; memoryMb: Usage };
}
export interface Resource {
  id: string;
  name: string;
  template: string;
  target: string;
  size: string;
  options: Record<string, unknown>;
  status: string;
  stage: string | null;
  progress: number;
  endpoint: Record<string, string> | null;
  configuration: Record<string, unknown> | null;
  lastError: string | null;
  drift: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}
export interface ResourceEvent {
  id: string;
  operationId: string | null;
  stage: string;
  progress: number;
  message: string;
  detail: Record<string, unknown> | null;
  createdAt: string;
}
export interface TeamEvent {
  id: string;
  resourceId: string;
  resourceName: string;
  status: string;
  stage: string;
  progress: number;
  message: string;
}
/** A template's size (GET /v1/templates sizeSpecs): the limits of what sizeUnit names, its data, and what the quota counts. */
export interface SizeDetail {
  cpus: number;
  memoryMb: number;
  storageGb: number;
  footprint: { cpus: number; memoryMb: number };
}
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  items?: JsonSchema;
}
export interface TemplateInfo {
  id: string;
  description: string;
  sizes: string[];
  defaultSize: string;
  sizeSpecs: Record<string, SizeDetail>;
  sizeUnit: string;
  targets: string[];
  parameters: JsonSchema;
}
export interface ApiKey {
  id: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  current: boolean;
}
export interface AuditEntry {
  id: string;
  action: string;
  resourceId: string | null;
  resourceName: string | null;
  apiKeyPrefix: string | null;
  createdAt: string;
}

/** The same rule as the API (resources.schemas.ts): checked before sending. */
export function nameProblem(name: string): string | undefined {
  if (!name) return "Give the resource a name.";
  if (name.length > 40) return "At most 40 characters.";
  if (!/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(name))
    return "Lowercase letters, digits and '-', starting with a letter and not ending with '-'.";
  return undefined;
}

export const formatMemory = (mb: number) => (mb >= 1024 ? `${Math.round((mb / 1024) * 10) / 10} GB` : `${mb} MB`);
export const formatTime = (iso: string) => new Date(iso).toLocaleString();
