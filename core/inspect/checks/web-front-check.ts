// Inspect: the web front. The nginx configuration the platform ships is installed and valid
// (`nginx -t`) when nginx is present; uploads may be as large as `[upload] max_size` and
// are streamed through (no request buffering); the TLS certificate parses, names the
// site's host and is not about to expire.
import { X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import { PlatformConfigId } from '../../services/service-ids.js';
import { nginxConfigOf } from '../../config/nginx-config.js';
import type { PlatformConfig } from '../../config/platform-config.js';

const run = promisify(execFile);
const DAY = 86_400_000;

/** nginx sizes (`0`, `512`, `10k`, `2m`, `1g`) in bytes; 0 means unlimited. */
export function nginxSize(value: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(value.trim());
  if (!match) return NaN;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}

/** The body of `location /upload/ { ... }` in an nginx configuration, if any. */
function uploadLocation(text: string): string | undefined {
  const start = text.search(/location\s+\/upload\/?\s*\{/);
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(text.indexOf('{', start) + 1, i);
  }
  return undefined;
}

/** Findings about an nginx configuration's upload handling. */
export function nginxConfigFindings(file: string, text: string, maxUpload: number): InspectFinding[] {
  const findings: InspectFinding[] = [];
  const location = uploadLocation(text);
  if (!location) {
    return [{ severity: 'problem', title: `${file} has no "location /upload/" block`, why: 'uploads then get the API\'s small body limit and are buffered to disk by nginx', fix: 'install the configuration from nginx/platform.conf' }];
  }
  const sizes = [...location.matchAll(/client_max_body_size\s+([^;]+);/g)].map((m) => m[1]!.trim());
  const size = sizes.length ? nginxSize(sizes.at(-1)!) : nginxSize('1m');
  if (size !== 0 && !(size >= maxUpload)) {
    findings.push({ severity: 'problem', title: `nginx allows uploads of ${sizes.at(-1) ?? '1m (its default)'} under /upload/, less than [upload] max_size (${maxUpload} bytes)`, why: 'large uploads fail with 413 at nginx before reaching the platform', fix: `set "client_max_body_size 0;" in the /upload/ location of ${file}` });
  }
  if (!/proxy_request_buffering\s+off\s*;/.test(location)) {
    findings.push({ severity: 'problem', title: `nginx buffers upload requests (no "proxy_request_buffering off;" under /upload/)`, why: 'nginx would write each upload to its own disk first, doubling I/O and breaking resumable progress', fix: `add "proxy_request_buffering off;" to the /upload/ location of ${file}` });
  }
  if (!findings.length) findings.push({ severity: 'ok', title: `${file} streams uploads of any size through` });
  return findings;
}

/** A finding when the installed configuration differs from the one generated from platform.ini. */
export function nginxDriftFindings(file: string, installed: string, generated: string): InspectFinding[] {
  if (installed === generated) return [{ severity: 'ok', title: `${file} is what platform nginx-config generates from platform.ini` }];
  const a = installed.split('\n');
  const b = generated.split('\n');
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line++;
  return [
    {
      severity: 'problem',
      title: `${file} differs from what platform nginx-config generates from platform.ini (first at line ${line + 1})`,
      why: 'nginx and the platform disagree on nodes, limits or files, e.g. an upload limit below [upload] max_size or a node that no longer exists',
      fix: `platform nginx-config > ${file} && nginx -t && nginx -s reload`,
      details: [`installed: ${a[line] ?? '(end of file)'}`, `generated: ${b[line] ?? '(end of file)'}`],
    },
  ];
}

/** Findings about a TLS certificate for `host`. */
export function certificateFindings(file: string, pem: string, host: string | undefined, now = new Date()): InspectFinding[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (error) {
    return [{ severity: 'problem', title: `TLS certificate ${file} does not parse: ${(error as Error).message}`, why: 'nginx cannot serve HTTPS with it', fix: 'install a PEM certificate' }];
  }
  const findings: InspectFinding[] = [];
  const validTo = new Date(cert.validTo);
  if (validTo <= now) findings.push({ severity: 'problem', title: `TLS certificate ${file} expired on ${validTo.toISOString()}`, why: 'clients refuse the connection', fix: 'renew the certificate' });
  else if (validTo.getTime() - now.getTime() < 30 * DAY) findings.push({ severity: 'problem', title: `TLS certificate ${file} expires in ${Math.ceil((validTo.getTime() - now.getTime()) / DAY)} days (${validTo.toISOString()})`, why: 'clients will refuse the connection soon', fix: 'renew the certificate now' });
  if (host && !(isIP(host) ? cert.checkIP(host) : cert.checkHost(host))) findings.push({ severity: 'problem', title: `TLS certificate ${file} does not name ${host} (it names ${cert.subjectAltName ?? cert.subject})`, why: 'clients refuse a certificate for another host', fix: `get a certificate for ${host}, or correct [platform] site_url` });
  if (!findings.length) findings.push({ severity: 'ok', title: `TLS certificate ${file} names ${host ?? 'the site'} and is valid until ${validTo.toISOString()}` });
  return findings;
}

/**
 * Whether the configuration says the site is served through nginx: `[inspect] behind_nginx`,
 * else any setting that only makes sense behind it. A development install (nginx merely on
 * the machine) has none, and nginx's checks would only report what it does not need.
 */
export function behindNginx(config: PlatformConfig): boolean {
  const explicit = config.section<{ behind_nginx?: boolean }>('inspect').behind_nginx;
  if (explicit !== undefined) return explicit;
  const http = config.section<{ trust_proxy: boolean; x_accel_redirect: string }>('http');
  return http.trust_proxy || http.x_accel_redirect !== '' || config.string('inspect', 'nginx_config') !== undefined;
}

/** The web front check. */
export const webFrontCheck: InspectCheck = {
  area: 'web',
  name: 'nginx and TLS',
  async run(ctx) {
    const config = ctx.services.get(PlatformConfigId);
    const inspect = config.section<{ nginx_config?: string; tls_certificate?: string }>('inspect');
    const maxUpload = config.section<{ max_size: number }>('upload').max_size;
    const findings: InspectFinding[] = [];
    const nginxFile = config.path('inspect', 'nginx_config') ?? '/etc/nginx/sites-enabled/platform.conf';
    const behind = behindNginx(config);
    const nginx = behind && (await run('nginx', ['-v']).then(() => true, () => false));
    if (!behind) findings.push({ severity: 'ok', title: 'not configured to be served through nginx ([inspect] behind_nginx, [http] trust_proxy); its checks are skipped' });
    else if (!nginx) findings.push({ severity: 'ok', title: 'nginx is not installed here; its checks are skipped (run inspect on the machine that serves the site)' });
    else {
      const tested = await run('nginx', ['-t'], { timeout: 20_000 }).then(() => undefined, (error: { stderr?: string }) => error.stderr ?? 'nginx -t failed');
      if (tested) findings.push({ severity: 'problem', title: 'nginx -t reports an invalid configuration', why: 'nginx will not reload, and a restart would take the site down', fix: 'correct the configuration nginx -t names', details: tested.trim().split('\n').slice(-5) });
      if (!existsSync(nginxFile)) findings.push({ severity: 'problem', title: `the platform's nginx configuration is not installed at ${nginxFile}`, why: 'without it uploads hit nginx\'s defaults', fix: `copy nginx/platform.conf to ${nginxFile} (or set [inspect] nginx_config), then nginx -s reload` });
      else {
        const installed = readFileSync(nginxFile, 'utf8');
        findings.push(...nginxConfigFindings(nginxFile, installed, maxUpload), ...nginxDriftFindings(nginxFile, installed, nginxConfigOf(config)));
      }
    }
    if (inspect.tls_certificate) {
      const certFile = config.path('inspect', 'tls_certificate')!;
      let host: string | undefined;
      try {
        host = new URL(config.string('platform', 'site_url') ?? '').hostname || undefined;
      } catch {
        host = undefined;
      }
      if (!existsSync(certFile)) findings.push({ severity: 'problem', title: `TLS certificate ${certFile} ([inspect] tls_certificate) does not exist`, fix: 'correct the path or install the certificate' });
      else findings.push(...certificateFindings(certFile, readFileSync(certFile, 'utf8'), host));
    }
    return findings;
  },
};
