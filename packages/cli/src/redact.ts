import { redactUrl } from '@agent-sessions/core/store';

/**
 * A scrubber for everything the command prints: any `user:password@` in a URL-looking string
 * becomes `user:***@`, and the store URL's own password (and user-info) never appear verbatim,
 * even inside a driver's message that quoted it in another form.
 */
export function scrubberFor(url: string | undefined): (text: string) => string {
  const secrets: string[] = [];
  if (url) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(url);
    const info = m?.[1];
    if (info) {
      const password = info.includes(':') ? info.slice(info.indexOf(':') + 1) : '';
      for (const s of [password, safeDecode(password)]) if (s.length >= 3) secrets.push(s);
    }
    // Passwords may also come as query parameters (`?password=`).
    for (const [k, v] of queryOf(url)) if (/pass|secret|token|key/i.test(k) && v.length >= 3) secrets.push(v);
  }
  return (text: string) => {
    let out = text
      .split(/(\s+)/)
      .map((w) => (w.includes('://') ? redactUrl(w) : w))
      .join('');
    for (const s of secrets) out = out.split(s).join('***');
    return out;
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q >= 0 ? (url.slice(q + 1).split('#')[0] ?? '') : '');
}
