// Encrypted access-token files in DCOR-Aid's `.dcor-access` format: a password-protected
// zip holding `api_key.txt` (the user's API token) and `server.cert` (the server's PEM
// certificate, which the client trusts and nothing else). AES-256 (WinZip AE-2) by default;
// traditional ZipCrypto for older readers (DCOR-Aid, dclab, `zip -e`).
import { X509Certificate, randomInt } from 'node:crypto';
import { ValidationError } from '../errors.js';

/**
 * The zip library, loaded on first use: every plugin imports core's API, which exports this
 * module, and a server that never reads a token need not hold the library in memory.
 */
let zipLibrary: Promise<typeof import('@zip.js/zip.js')> | undefined;
function zipLib(): Promise<typeof import('@zip.js/zip.js')> {
  return (zipLibrary ??= import('@zip.js/zip.js').then((zip) => {
    zip.configure({ useWebWorkers: false });
    return zip;
  }));
}

/** The encryption scheme of a token file. */
export type AccessTokenEncryption = 'aes-256' | 'zipcrypto';

/** The members of a token file. */
export const API_KEY_MEMBER = 'api_key.txt';
export const CERT_MEMBER = 'server.cert';

/** What a token file holds, once opened. */
export interface AccessTokenContents {
  apiKey: string;
  certificatePem: string;
  certificate: X509Certificate;
  encryption: AccessTokenEncryption;
}

/** What a token file tells without revealing its secret. */
export interface AccessTokenSummary {
  commonName: string | undefined;
  altNames: string[];
  validFrom: Date;
  validTo: Date;
  keyStart: string;
  encryption: AccessTokenEncryption;
  warnings: string[];
}

/** Parses a PEM certificate. @throws ValidationError when it does not parse. */
export function parseCertificate(pem: string, where: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new ValidationError(`${where} is not a PEM certificate: ${(error as Error).message}`);
  }
}

/** A strong password for a token file: 24 characters from an unambiguous alphabet, in groups. */
export function generateTokenPassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const chars = Array.from({ length: 24 }, () => alphabet[randomInt(alphabet.length)]!);
  return [0, 6, 12, 18].map((i) => chars.slice(i, i + 6).join('')).join('-');
}

/** Writes a token file. The certificate must parse. */
export async function writeAccessTokenFile(input: { apiKey: string; certificatePem: string; password: string; encryption: AccessTokenEncryption }): Promise<Uint8Array> {
  const { ZipWriter, Uint8ArrayWriter, TextReader } = await zipLib();
  parseCertificate(input.certificatePem, 'the server certificate');
  if (input.password.length < 8) throw new ValidationError('the access token password is too short; use at least 8 characters');
  const writer = new ZipWriter(new Uint8ArrayWriter(), input.encryption === 'zipcrypto' ? { password: input.password, zipCrypto: true } : { password: input.password, encryptionStrength: 3 });
  await writer.add(API_KEY_MEMBER, new TextReader(input.apiKey));
  await writer.add(CERT_MEMBER, new TextReader(input.certificatePem));
  return writer.close();
}

/**
 * Opens a token file (either scheme, including those made by `zip -e`).
 * @throws ValidationError for a wrong password, a corrupt zip, a missing member or a certificate that does not parse.
 */
export async function readAccessTokenFile(data: Uint8Array, password: string): Promise<AccessTokenContents> {
  const { ZipReader, Uint8ArrayReader, TextWriter, ERR_INVALID_PASSWORD } = await zipLib();
  let entries;
  const reader = new ZipReader(new Uint8ArrayReader(data));
  try {
    entries = await reader.getEntries();
  } catch (error) {
    throw new ValidationError(`the access token file is not a readable zip archive (${(error as Error).message}); ask for a new one`);
  }
  try {
    const find = (name: string) => {
      const entry = entries.find((e) => e.filename === name || e.filename.endsWith(`/${name}`));
      if (!entry || entry.directory) throw new ValidationError(`the access token file has no ${name}; it holds ${entries.map((e) => e.filename).join(', ') || 'nothing'}`);
      return entry;
    };
    const keyEntry = find(API_KEY_MEMBER);
    const certEntry = find(CERT_MEMBER);
    if (!keyEntry.encrypted) throw new ValidationError('the access token file is not encrypted; refusing to use a token that travelled in the clear');
    const read = async (entry: typeof keyEntry): Promise<string> => {
      try {
        return await entry.getData!(new TextWriter(), { password, checkPasswordOnly: false });
      } catch (error) {
        if ((error as Error).message === ERR_INVALID_PASSWORD) throw new ValidationError('wrong password for the access token file');
        throw new ValidationError(`the access token file is damaged: ${(error as Error).message}`);
      }
    };
    const apiKey = (await read(keyEntry)).trim();
    const certificatePem = await read(certEntry);
    if (!apiKey) throw new ValidationError(`${API_KEY_MEMBER} in the access token file is empty`);
    const certificate = parseCertificate(certificatePem, `${CERT_MEMBER} in the access token file`);
    return { apiKey, certificatePem, certificate, encryption: keyEntry.zipCrypto ? 'zipcrypto' : 'aes-256' };
  } finally {
    await reader.close();
  }
}

/** The certificate's host names: common name and subject alternative names. */
export function certificateNames(certificate: X509Certificate): { commonName: string | undefined; altNames: string[] } {
  const commonName = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
  const altNames = (certificate.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return { commonName, altNames };
}

/** What `access-token inspect` shows: no secret beyond the key's first characters. */
export function summariseAccessToken(contents: AccessTokenContents, now = new Date()): AccessTokenSummary {
  const { commonName, altNames } = certificateNames(contents.certificate);
  const validFrom = new Date(contents.certificate.validFrom);
  const validTo = new Date(contents.certificate.validTo);
  const warnings: string[] = [];
  if (contents.encryption === 'zipcrypto') warnings.push('encrypted with ZipCrypto, which falls to a known-plaintext attack (the certificate\'s first line is known); prefer an AES-256 token');
  if (validTo < now) warnings.push(`the server certificate expired on ${validTo.toISOString()}`);
  else if (validTo.getTime() - now.getTime() < 30 * 86_400_000) warnings.push(`the server certificate expires soon, on ${validTo.toISOString()}`);
  if (validFrom > now) warnings.push(`the server certificate is not valid before ${validFrom.toISOString()}`);
  return { commonName, altNames, validFrom, validTo, keyStart: `${contents.apiKey.slice(0, 10)}...`, encryption: contents.encryption, warnings };
}
