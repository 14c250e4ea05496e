/**
 * Credentials out of URLs before they reach a log line or an error message: proxy_base_url,
 * proxy_rules and the proxy variables may carry them (`https://user:key@host`, `?api_key=`).
 */
/** Query parameters whose value is a credential (matched on the decoded name, any case). */
const SECRET_PARAMETER = /(^|[-_.])(api[-_.]?key|key|token|access[-_.]?token|secret|password|passwd|pwd|auth|authorization|signature|sig|credential|credentials|session)$/i;
// Any scheme-like prefix with any number of slashes, or none: a mistyped value (`http:/user:secret@host`,
// `http ://user:secret@host`, `sk-key@host/v1`) still hides its userinfo.
const USERINFO = /^([^:/?#@]*:\/*|)([^/?#@]*)@/;

/**
 * `url` as it may be logged: the user and password of `scheme://user:secret@host` become `***`,
 * and so does the value of every query parameter named like a credential (`api_key`, `key`,
 * `token`, `access_token`, `secret`, `password`, `sig`…). Everything else stays byte for byte,
 * and a string that is not a URL (a mistyped config value) is handled the same way.
 * @returns the redacted text (the input itself when there was nothing to hide).
 */
export function redactUrl(url: string): string {
  let out = url.replace(USERINFO, (_match, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? '***:***' : '***'}@`);
  const query = out.indexOf('?');
  if (query === -1) return out;
  const fragment = out.indexOf('#', query);
  const end = fragment === -1 ? out.length : fragment;
  const params = out
    .slice(query + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      return SECRET_PARAMETER.test(decodeName(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=***` : pair;
    });
  out = `${out.slice(0, query + 1)}${params.join('&')}${out.slice(end)}`;
  return out;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

/**
 * A config value meant as an upstream URL, as an error message may quote it: redactUrl's form
 * when it is a URL; when it is not, everything up to its last `@` is hidden too, since where
 * its credentials end cannot be told.
 * @returns the redacted text.
 */
export function redactConfigUrl(value: string): string {
  const redacted = redactUrl(value);
  return URL.canParse(value) ? redacted : redacted.replace(/^[^]*@/, '***@');
}
