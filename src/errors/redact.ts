/**
 * The one redaction of mcpo-ts: what the proxy shows (error messages, `/health`, log lines) never carries URL
 * credentials, query values or fragments. Messages of fetch, the SDK and the OS quote the URL they were given in
 * full (`https://user:pass@host/mcp?token=...`), so every message that leaves the process passes through here.
 */

/**
 * A URL inside a text: a scheme, `://`, then anything up to a space, a quote or an angle bracket, and not ending
 * in the punctuation of the sentence around it (`(see http://host/x).`).
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]*[^\s"'`<>).,;:]/gi;

/** What replaces a query value (and a fragment). */
export const REDACTED = "redacted";

/**
 * `http://user:pass@host/p?token=x&a=1#frag` → `http://host/p?token=redacted&a=redacted`: the userinfo is dropped,
 * every query value replaced (names kept, for the reader) and the fragment dropped. Works on the text, without
 * parsing, so it never throws and changes nothing else (a URL that does not parse is still redacted).
 */
export function redactUrl(url: string): string {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd < 0) return url;
  const authorityStart = schemeEnd + 3;
  const rest = url.slice(authorityStart);
  const authorityLength = rest.search(/[/?#]/);
  const authority = authorityLength < 0 ? rest : rest.slice(0, authorityLength);
  const tail = authorityLength < 0 ? "" : rest.slice(authorityLength);
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  const hashAt = tail.indexOf("#");
  const beforeHash = hashAt < 0 ? tail : tail.slice(0, hashAt);
  const queryAt = beforeHash.indexOf("?");
  const path = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const query =
    queryAt < 0
      ? ""
      : `?${beforeHash
          .slice(queryAt + 1)
          .split("&")
          .map((pair) => (pair === "" ? pair : `${pair.split("=", 1)[0]}=${REDACTED}`))
          .join("&")}`;
  return `${url.slice(0, authorityStart)}${host}${path}${query}`;
}

/** Every URL in a message redacted (see redactUrl); a text without `://` is returned as it is, at no cost. */
export function redactText(text: string): string {
  if (!text.includes("://")) return text;
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}
