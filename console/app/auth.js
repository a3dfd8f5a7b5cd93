// Who is signed in. The local system mints dev tokens (a sign-in form with User and Group);
// in AWS the Cognito user pool's hosted UI signs people in (authorization code + PKCE) and
// the console sends the ID token, whose claims the API's Cognito authorizer checks.
// The session lives in sessionStorage: closing the tab signs out.

const SESSION_KEY = "complaints.console.session";
const PKCE_KEY = "complaints.console.pkce";
const STAFF = ["agents", "supervisors"];
const REFRESH_MARGIN_S = 120;

export class AuthError extends Error {}

/** The claims of a JWT (not verified here: the API verifies every request). */
export function claimsOf(token) {
  const part = String(token).split(".")[1];
  if (!part) throw new AuthError("not a JWT");
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

function sessionFrom(token, refreshToken = null) {
  const claims = claimsOf(token);
  const groups = Array.isArray(claims["cognito:groups"]) ? claims["cognito:groups"] : [];
  return {
    token,
    refreshToken,
    user: claims["cognito:username"] ?? claims.username ?? claims.sub,
    groups,
    exp: Number(claims.exp ?? 0),
  };
}

export function isStaff(session) {
  return session.groups.some((g) => STAFF.includes(g));
}

export function canSeeReports(session) {
  return session.groups.some((g) => g === "supervisors" || g === "ops");
}

export class Auth {
  constructor(config, onChange) {
    this.config = config;
    this.onChange = onChange;
    this.session = this.#load();
    this.refreshing = null;
  }

  get mode() {
    return this.config.mode;
  }

  #load() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
      if (!stored?.token) return null;
      const session = sessionFrom(stored.token, stored.refreshToken);
      return session.exp > Date.now() / 1000 || session.refreshToken ? session : null;
    } catch {
      return null;
    }
  }

  #store(session) {
    this.session = session;
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: session.token, refreshToken: session.refreshToken }));
    else sessionStorage.removeItem(SESSION_KEY);
    this.onChange?.(session);
  }

  /** The bearer token for the next request, refreshed first when it is about to expire. */
  async token() {
    const s = this.session;
    if (!s) return null;
    if (s.exp - Date.now() / 1000 > REFRESH_MARGIN_S || !s.refreshToken || this.mode !== "cognito") return s.token;
    this.refreshing ??= this.#refresh(s).finally(() => { this.refreshing = null; });
    return (await this.refreshing)?.token ?? null;
  }

  signOut({ expired = false } = {}) {
    const wasCognito = this.mode === "cognito" && this.session;
    this.#store(null);
    if (wasCognito && !expired) {
      const c = this.config;
      const url = new URL("/logout", c.domain);
      url.search = new URLSearchParams({ client_id: c.client_id, logout_uri: c.redirect_uri }).toString();
      window.location.assign(url.toString());
    }
  }

  // -- local system ----------------------------------------------------------------------------
  async signInLocal(user, group) {
    const response = await fetch(new URL(this.config.token_url, window.location.href), {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ user, group }), cache: "no-store",
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = data?.error?.details?.[0];
      throw new AuthError(detail ? `${detail.field}: ${detail.message}` : data?.error?.message ?? String(response.status));
    }
    this.#store(sessionFrom(data.token));
    return this.session;
  }

  // -- Cognito hosted UI, authorization code with PKCE -------------------------------------------
  async startCognito() {
    const c = this.config;
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
    const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: window.location.hash }));
    const url = new URL("/oauth2/authorize", c.domain);
    url.search = new URLSearchParams({
      response_type: "code", client_id: c.client_id, redirect_uri: c.redirect_uri,
      scope: (c.scopes ?? ["openid", "email", "profile"]).join(" "),
      state, code_challenge: challenge, code_challenge_method: "S256",
    }).toString();
    window.location.assign(url.toString());
  }

  /** On the way back from the hosted UI (?code=...&state=...): trade the code for tokens. */
  async completeCognito() {
    const params = new URLSearchParams(window.location.search);
    if (this.mode !== "cognito" || (!params.has("code") && !params.has("error"))) return false;
    const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? "null");
    sessionStorage.removeItem(PKCE_KEY);
    const back = `${window.location.pathname}${pending?.hash ?? ""}`;
    window.history.replaceState(null, "", back);
    if (params.has("error")) throw new AuthError(params.get("error_description") ?? params.get("error"));
    if (!pending || pending.state !== params.get("state")) throw new AuthError("state mismatch: start the sign-in again");
    const tokens = await this.#tokenRequest({
      grant_type: "authorization_code", client_id: this.config.client_id, code: params.get("code"),
      redirect_uri: this.config.redirect_uri, code_verifier: pending.verifier,
    });
    this.#store(sessionFrom(tokens.id_token, tokens.refresh_token ?? null));
    return true;
  }

  async #refresh(session) {
    try {
      const tokens = await this.#tokenRequest({
        grant_type: "refresh_token", client_id: this.config.client_id, refresh_token: session.refreshToken,
      });
      this.#store(sessionFrom(tokens.id_token, session.refreshToken));
    } catch {
      this.#store(null);
    }
    return this.session;
  }

  async #tokenRequest(form) {
    const response = await fetch(new URL("/oauth2/token", this.config.domain), {
      method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(), cache: "no-store",
    });
    const data = await response.json().catch(() => null);
    if (!response.ok || !data?.id_token) throw new AuthError(data?.error_description ?? data?.error ?? `token endpoint ${response.status}`);
    return data;
  }
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
