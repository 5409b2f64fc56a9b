// CamCOPS client versions ("2.4.12"): parsing and comparison.

/** A parsed version: major, minor, patch. */
export type CamcopsVersion = readonly [number, number, number];

/** Parses "2", "2.4" or "2.4.12" (a "-suffix" is ignored); undefined when it is not a version. */
export function parseCamcopsVersion(text: string): CamcopsVersion | undefined {
  const match = /^\s*(\d{1,4})(?:\.(\d{1,4}))?(?:\.(\d{1,4}))?(?:[-+][0-9A-Za-z.-]*)?\s*$/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: CamcopsVersion, b: CamcopsVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** "2.4.12". */
export function formatVersion(v: CamcopsVersion): string {
  return v.join('.');
}

/** The oldest client the protocol here supports. */
export const MINIMUM_CLIENT_VERSION: CamcopsVersion = [2, 0, 0];
