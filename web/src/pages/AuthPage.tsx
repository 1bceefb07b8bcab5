import type { KeywardError } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import { asKeywardError, type SessionUser, signIn, signUp } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";

/** Sign in, or create an account; either way the server sets the session cookie. */
export function AuthPage({ onSignedIn }: { onSignedIn: (user: SessionUser) => void }) {
  const [mode, setMode] = useState<"signIn" | "signUp">("signIn");
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      const user =
        mode === "signIn"
          ? await signIn(email, password)
          : await signUp(email, password, String(form.get("name") ?? ""));
      onSignedIn(user);
    } catch (caught) {
      setError(asKeywardError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <h1>Keyward</h1>
      <p className="muted">API keys for your product: issue, verify, scope, roll and revoke.</p>
      <form onSubmit={submit} className="card stack" aria-label={mode === "signIn" ? "Sign in" : "Create an account"}>
        <h2>{mode === "signIn" ? "Sign in" : "Create an account"}</h2>
        {mode === "signUp" && (
          <label>
            Name
            <input name="name" autoComplete="name" required maxLength={100} />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "signIn" ? "current-password" : "new-password"}
            required
          />
        </label>
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Please wait…" : mode === "signIn" ? "Sign in" : "Create account"}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(mode === "signIn" ? "signUp" : "signIn");
            setError(null);
          }}
        >
          {mode === "signIn" ? "New here? Create an account" : "Have an account? Sign in"}
        </button>
      </form>
    </main>
  );
}
