import { parseCookie, stringifySetCookie } from "cookie";

// The dashboard's session lives in a cookie the page's scripts cannot read
// (HttpOnly), that no other site's page makes the browser send (SameSite=Strict), and
// that travels only over HTTPS in production (Secure). It holds the same opaque
// session token (kws_…) a signIn returns, so signing out ends both alike.

export const SESSION_COOKIE = "keyward_session";

/** The header every cookie-signed request must carry (the one Yoga's CSRF prevention names). */
export const CSRF_HEADER = "x-graphql-yoga-csrf";

/** What a request offers to say who it comes from. */
export interface Credentials {
  authorization: string | null;
  cookie: string | null;
  csrfHeader: boolean;
}

interface Headers {
  get(name: string): string | null;
}

export function credentialsFrom(headers: Headers): Credentials {
  const raw = headers.get("cookie");
  const cookie = raw ? (parseCookie(raw)[SESSION_COOKIE] ?? null) : null;
  return {
    authorization: headers.get("authorization"),
    cookie: cookie === "" ? null : cookie,
    csrfHeader: headers.get(CSRF_HEADER) !== null,
  };
}

export function sessionCookie(token: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: "strict",
    secure: options.secure,
    path: "/",
    maxAge: options.maxAgeSeconds,
  });
}

/** Tells the browser to forget the cookie. */
export function clearedSessionCookie(options: { secure: boolean }): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: "",
    httpOnly: true,
    sameSite: "strict",
    secure: options.secure,
    path: "/",
    maxAge: 0,
    expires: new Date(0),
  });
}
