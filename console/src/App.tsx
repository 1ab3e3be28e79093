import { Fragment, useCallback, useEffect, useState } from "react";
import { api, setSession, type SessionInfo } from "./api";
import { CreateWizard } from "./pages/CreateWizard";
import { ProgressView } from "./pages/ProgressView";
import { ResourceDetail } from "./pages/ResourceDetail";
import { ResourceList } from "./pages/ResourceList";
import { SignIn } from "./pages/SignIn";
import { TeamPage } from "./pages/TeamPage";
import { Link, navigate, useLocation } from "./router";

export function App() {
  const [who, setWho] = useState<SessionInfo | null | undefined>(undefined);
  const { path, key } = useLocation();

  const signedOut = useCallback(() => {
    setSession(undefined);
    setWho(null);
  }, []);

  useEffect(() => {
    setSession(undefined, signedOut);
    api<SessionInfo>("GET", "/v1/session").then(
      (info) => {
        setSession(info.session?.csrfToken);
        setWho(info);
      },
      () => setWho(null),
    );
  }, [signedOut]);

  if (who === undefined)
    return (
      <main className="page" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  if (who === null)
    return (
      <SignIn
        onSignedIn={(info) => {
          setSession(info.session?.csrfToken);
          setWho(info);
          if (path === "/signin") navigate("/");
        }}
      />
    );

  const signOut = async () => {
    await api("DELETE", "/v1/session").catch(() => undefined);
    signedOut();
    navigate("/");
  };

  let page;
  let match;
  if (path === "/" || path === "/resources") page = <ResourceList />;
  else if (path === "/new") page = <CreateWizard />;
  else if (path === "/team") page = <TeamPage />;
  else if ((match = /^\/resources\/([0-9a-f-]{36})\/progress$/.exec(path))) page = <ProgressView id={match[1]!} />;
  else if ((match = /^\/resources\/([0-9a-f-]{36})$/.exec(path))) page = <ResourceDetail id={match[1]!} />;
  else
    page = (
      <main id="main" className="page">
        <h1>Not found</h1>
        <p>
          <Link to="/">Back to the resources</Link>
        </p>
      </main>
    );

  const current = (to: string) => (path === to || (to === "/" && path.startsWith("/resources")) ? "page" : undefined);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Provisioner</span>
        <nav aria-label="Main">
          <Link to="/" aria-current={current("/")}>
            Resources
          </Link>
          <Link to="/new" aria-current={current("/new")}>
            New resource
          </Link>
          <Link to="/team" aria-current={current("/team")}>
            Team
          </Link>
        </nav>
        <span className="who">
          <span className="team-name">{who.team.name}</span>
          <button type="button" className="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      {/* A new page, even the same one again (New resource from the wizard), starts fresh. */}
      <Fragment key={key}>{page}</Fragment>
    </>
  );
}
