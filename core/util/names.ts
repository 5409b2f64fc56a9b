// Rules for the URL-safe names of users, organisations and datasets (CKAN's slugs).

/** Lowercase letters, digits, `-` and `_`, 2 to 100 characters. */
export const SLUG_PATTERN = '^[a-z0-9_-]{2,100}$';
const SLUG = new RegExp(SLUG_PATTERN);

/** A message saying why `value` is not a slug, or undefined when it is one. */
export function slugProblem(value: string): string | undefined {
  if (value.length < 2) return `"${value}" is too short; use at least 2 characters`;
  if (value.length > 100) return `name is ${value.length} characters long; use at most 100`;
  if (!SLUG.test(value)) return `"${value}" is not a valid name; use lowercase letters, digits, - and _ only`;
  return undefined;
}
