// DOIs and references in one form: DOIs bare (10.1234/abc), references as https links.

const DOI = /^(?:doi:|https?:\/\/(?:dx\.)?doi\.org\/)?\s*(10\.\d{4,9}\/\S+)$/i;

/** `https://doi.org/10.1/x`, `doi:10.1/x` and `10.1/x` all become `10.1/x`; other values stay. */
export function normaliseDoi(value: string): string {
  const match = DOI.exec(value.trim());
  return match ? match[1]! : value.trim();
}

/** A reference as a link: DOIs become https://doi.org/ links; other values stay. */
export function normaliseReference(value: string): string {
  const trimmed = value.trim();
  const match = DOI.exec(trimmed);
  return match ? `https://doi.org/${match[1]!}` : trimmed;
}
