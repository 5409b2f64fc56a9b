// Suggests the closest known names for a mistyped one (config keys, actions, commands).

/** Levenshtein distance between two short strings. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/**
 * The known names closest to `name`, best first: those within a third of its length in
 * edits, or that contain it, at most `limit` of them.
 */
export function closestNames(name: string, known: Iterable<string>, limit = 3): string[] {
  const wanted = name.toLowerCase();
  const budget = Math.max(2, Math.ceil(wanted.length / 3));
  return [...known]
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => distance <= budget || (wanted.length >= 3 && candidate.toLowerCase().includes(wanted)))
    .sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate))
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

/** `; did you mean "a" or "b"?` or an empty string. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const names = closestNames(name, known);
  if (names.length === 0) return '';
  return `; did you mean ${names.map((n) => `"${n}"`).join(' or ')}?`;
}
