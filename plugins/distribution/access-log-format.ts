// Access-log lines: nginx and Apache combined and common formats, and any nginx-style
// `log_format` string (`$remote_addr [$time_local] "$request" $status`), parsed into requests.

/** One parsed request of an access log. */
export interface LogRequest {
  address: string | undefined;
  user: string | undefined;
  at: Date | undefined;
  method: string | undefined;
  /** The request path, percent-decoded, without the query. */
  path: string | undefined;
  status: number | undefined;
  userAgent: string | undefined;
}

export const COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
export const COMMON = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent';

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `10/Oct/2026:13:55:36 +0200` → Date. */
export function parseTimeLocal(value: string): Date | undefined {
  const m = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m || MONTHS[m[2]!] === undefined) return undefined;
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(Date.UTC(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A parser for a format: `combined`, `common`, or an nginx log_format string. @throws Error for a format with no `$request`/`$request_uri`/`$uri`. */
export function logLineParser(format: string): (line: string) => LogRequest | undefined {
  const spec = format === 'combined' ? COMBINED : format === 'common' ? COMMON : format;
  const names: string[] = [];
  let source = '^';
  let last = 0;
  const tokens = /\$([a-z_0-9]+)/g;
  for (let m = tokens.exec(spec); m; m = tokens.exec(spec)) {
    source += escapeRegex(spec.slice(last, m.index));
    names.push(m[1]!);
    // A field in quotes or brackets runs to its closing character; a bare one is one word.
    const after = spec[m.index + m[0].length];
    source += after === '"' ? '((?:[^"\\\\]|\\\\.)*)' : after === ']' ? '([^\\]]*)' : '(\\S*)';
    last = m.index + m[0].length;
  }
  source += `${escapeRegex(spec.slice(last))}`;
  if (!names.some((n) => n === 'request' || n === 'request_uri' || n === 'uri')) throw new Error(`access_log_format "${format}" has none of $request, $request_uri, $uri: requests cannot be matched to files`);
  const regex = new RegExp(source);
  return (line: string) => {
    const m = regex.exec(line);
    if (!m) return undefined;
    const v: Record<string, string> = {};
    names.forEach((n, i) => (v[n] = m[i + 1]!));
    let method = v.request_method;
    let target = v.request_uri ?? v.uri;
    if (v.request !== undefined) {
      const parts = v.request.split(' ');
      method ??= parts[0];
      target ??= parts[1];
    }
    let path: string | undefined;
    if (target) {
      try {
        path = decodeURIComponent(target.split('?')[0]!);
      } catch {
        path = target.split('?')[0];
      }
    }
    const dash = (s: string | undefined) => (s === undefined || s === '-' || s === '' ? undefined : s);
    return {
      address: dash(v.remote_addr),
      user: dash(v.remote_user),
      at: v.time_local ? parseTimeLocal(v.time_local) : v.time_iso8601 ? new Date(v.time_iso8601) : undefined,
      method,
      path,
      status: v.status ? Number(v.status) : undefined,
      userAgent: dash(v.http_user_agent),
    };
  };
}
