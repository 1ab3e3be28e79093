// The team: quota usage, API keys (created and revoked here; a revoked key's
// sessions end at once) and the audit log of credential reads.
import { useCallback, useEffect, useState } from "react";
import { api, formatMemory, formatTime, type ApiKey, type AuditEntry, type TeamDetail } from "../api";
import { ErrorNote, Meter, Section } from "../components";

export function TeamPage() {
  const [team, setTeam] = useState<TeamDetail>();
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [newKey, setNewKey] = useState<string>();
  const [error, setError] = useState<Error>();

  const load = useCallback(async () => {
    try {
      const [t, k, a] = await Promise.all([
        api<TeamDetail>("GET", "/v1/team"),
        api<{ apiKeys: ApiKey[] }>("GET", "/v1/team/api-keys"),
        api<{ entries: AuditEntry[] }>("GET", "/v1/team/audit?action=credentials.read&limit=50"),
      ]);
      setTeam(t);
      setKeys(k.apiKeys);
      setAudit(a.entries);
    } catch (e) {
      setError(e as Error);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const create = async () => {
    try {
      setNewKey((await api<{ apiKey: string }>("POST", "/v1/team/api-keys")).apiKey);
      await load();
    } catch (e) {
      setError(e as Error);
    }
  };

  const revoke = async (key: ApiKey) => {
    if (!window.confirm(`Revoke the key prov_${key.prefix}_…? Everything using it stops working.`)) return;
    try {
      await api("DELETE", `/v1/team/api-keys/${key.id}`);
      await load();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <main id="main" className="page">
      <h1>Team {team?.name}</h1>
      <ErrorNote error={error} />
      {team && (
        <Section title={`Quota (${team.tier} tier)`} id="quota">
          <Meter label="Resources" usage={team.quota.resources} />
          <Meter label="CPU" usage={team.quota.cpus} />
          <Meter label="Memory" usage={team.quota.memoryMb} unit={formatMemory} />
        </Section>
      )}
      <Section title="API keys">
        <button type="button" onClick={() => void create()}>
          Create an API key
        </button>
        {newKey && (
          <div className="new-key" role="status">
            <p>The new key, shown this once: store it now.</p>
            <pre tabIndex={0} aria-label="New API key" data-new-key>
              {newKey}
            </pre>
          </div>
        )}
        <table className="keys">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-key-prefix={k.prefix}>
                <td data-label="Key">
                  <code>prov_{k.prefix}_…</code>
                  {k.current && " (this session's)"}
                </td>
                <td data-label="Created">{formatTime(k.createdAt)}</td>
                <td data-label="State">{k.revokedAt ? `revoked ${formatTime(k.revokedAt)}` : "active"}</td>
                <td>
                  {!k.revokedAt && !k.current && (
                    <button type="button" className="danger compact" onClick={() => void revoke(k)} aria-label={`Revoke prov_${k.prefix}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Credential reads">
        {audit.length === 0 ? (
          <p>No credentials have been read.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Resource</th>
                <th scope="col">Key</th>
              </tr>
            </thead>
            <tbody>
              {audit.map((a) => (
                <tr key={a.id}>
                  <td data-label="When">{formatTime(a.createdAt)}</td>
                  <td data-label="Resource">{a.resourceName ?? a.resourceId}</td>
                  <td data-label="Key">{a.apiKeyPrefix ? `prov_${a.apiKeyPrefix}_…` : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </main>
  );
}
