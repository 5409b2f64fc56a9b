// Judges an anonymiser's output of the adversarial corpus by what was planted, with none of
// the anonymiser's code: each note's filler segments (template words, filler and decoys) are
// found in the output in order, and what lies between two of them is the output of the plant
// between them; a plant leaked when any of its identifying tokens (letter runs, digit runs) is
// still there after the text is read as a person would read it (in HTML entries tags dropped
// and character references decoded; everywhere soft hyphens, zero-width characters and hyphens at line ends joined).
// Decoys are kept when the filler that holds them comes through unchanged.
import { VARIANT_CLASSES, tokensOf, type CorpusNote, type Filler, type Plant, type VariantClass } from './adversarial-corpus.js';

/** Recall and decoys over any number of notes. */
export interface LeakReport {
  byClass: Record<VariantClass, { planted: number; leaked: number }>;
  decoys: { planted: number; kept: number };
  fillers: { total: number; intact: number };
  /** Up to 50 leaks, as planted and as output (synthetic data only). */
  examples: Array<{ noteId: number; variant: VariantClass; planted: string; output: string }>;
}

/** An empty report to add notes to. */
export function emptyLeakReport(): LeakReport {
  return {
    byClass: Object.fromEntries(VARIANT_CLASSES.map((c) => [c, { planted: 0, leaked: 0 }])) as LeakReport['byClass'],
    decoys: { planted: 0, kept: 0 }, fillers: { total: 0, intact: 0 }, examples: [],
  };
}

/** How a reader sees text: (for HTML) tags gone and references decoded; invisible and line-end breaks joined. */
function asRead(text: string, html: boolean): string {
  const rendered = !html ? text : text
    .replace(/<\/?(?:p|div|br|td|th|tr|table|li|ul|ol|h\d)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&#(\d+);?/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);?/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&(amp|lt|gt|quot|nbsp|shy);/g, (_, n: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', nbsp: ' ', shy: '' })[n] ?? '');
  return rendered
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]+(?:\r?\n)?/g, '')
    .replace(/(\p{L})[-\u2010\u2011][ \t]*(?:\r?\n[ \t]*)?(?=\p{L})/gu, '$1');
}

/** A filler as it appears once its HTML (if any) is rendered: its words, without tags or outer space. */
function fillerText(filler: Filler, html: boolean): string {
  return (html ? filler.text.replace(/<[^>]*>/g, '') : filler.text).trim();
}

/**
 * Adds one note's outcome to `report`.
 * @param output - the note's text as the anonymiser wrote it
 */
export function checkNote(note: CorpusNote, output: string, report: LeakReport): void {
  let position = 0;
  let pending: Plant[] = [];
  let pendingDecoys: string[] = [];
  let regionStart = 0;
  const settle = (regionEnd: number): void => {
    const region = output.slice(regionStart, regionEnd);
    const tokens = new Set(tokensOf(asRead(region, note.table === 'progress')));
    for (const plant of pending) {
      const counts = report.byClass[plant.variant];
      counts.planted += 1;
      if (plant.sensitive.some((t) => tokens.has(t))) {
        counts.leaked += 1;
        if (report.examples.length < 50) report.examples.push({ noteId: note.id, variant: plant.variant, planted: plant.text, output: region.trim().slice(0, 200) });
      }
    }
    // Decoys of fillers that did not come through whole: kept if still in the region.
    for (const decoy of pendingDecoys) if (tokens.has(decoy)) report.decoys.kept += 1;
    pending = [];
    pendingDecoys = [];
  };
  for (const segment of note.segments) {
    if (segment.kind === 'plant') {
      pending.push(segment);
      continue;
    }
    report.fillers.total += 1;
    report.decoys.planted += segment.decoys.length;
    const wanted = fillerText(segment, note.table === 'progress');
    const at = output.indexOf(wanted, position);
    if (at < 0) {
      // Changed by the anonymiser (over-scrubbing): judged with the plants around it.
      pendingDecoys.push(...segment.decoys);
      continue;
    }
    settle(at);
    report.fillers.intact += 1;
    report.decoys.kept += segment.decoys.length;
    position = at + wanted.length;
    regionStart = position;
  }
  settle(output.length);
}

/** Total planted and leaked over all classes. */
export function totals(report: LeakReport): { planted: number; leaked: number } {
  let planted = 0;
  let leaked = 0;
  for (const c of Object.values(report.byClass)) {
    planted += c.planted;
    leaked += c.leaked;
  }
  return { planted, leaked };
}

/** The report as a Markdown table: recall per variant class, then decoys and fillers kept. */
export function formatLeakReport(report: LeakReport): string {
  const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(b >= 1000 ? 2 : 1)}%`);
  const lines = ['| variant class | planted | leaked | recall |', '| --- | ---: | ---: | ---: |'];
  for (const c of VARIANT_CLASSES) {
    const { planted, leaked } = report.byClass[c];
    if (planted) lines.push(`| ${c} | ${planted} | ${leaked} | ${pct(planted - leaked, planted)} |`);
  }
  const all = totals(report);
  lines.push(`| **all** | **${all.planted}** | **${all.leaked}** | **${pct(all.planted - all.leaked, all.planted)}** |`);
  lines.push('', `Decoys kept: ${report.decoys.kept} of ${report.decoys.planted} (${pct(report.decoys.kept, report.decoys.planted)}); filler passages unchanged: ${report.fillers.intact} of ${report.fillers.total} (${pct(report.fillers.intact, report.fillers.total)}).`);
  return lines.join('\n');
}
