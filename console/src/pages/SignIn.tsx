import { useState, type FormEvent } from "react";
import { api, ApiError, type SessionInfo } from "../api";

export function SignIn({ onSignedIn }: { onSignedIn: (info: SessionInfo) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const info = await api<SessionInfo>("POST", "/v1/sessions", { apiKey: key.trim() });
      setKey("");
      onSignedIn(info);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? "This API key is not valid (unknown or revoked)." : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="page signin">
      <h1>Sign in to Provisioner</h1>
      <p>
        Paste one of your team&apos;s API keys (<code>npm run create-team</code> prints one). The console exchanges it for a session; the
        key is not kept in the browser.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="apiKey"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "api-key-error" : undefined}
          required
        />
        {error && (
          <p id="api-key-error" className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
