// Reads CamCOPS extra-string files (the server's per-task XML string files):
//   <resources><task name="phq9"><string name="q1" language="en_GB">text</string></task></resources>
// A string's content is kept as written (inner markup included), with XML entities decoded.

/** One extra string. */
export interface ExtraString {
  task: string;
  name: string;
  language: string;
  value: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9A-Fa-f]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity] ?? whole;
  });
}

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(attributes);
  return match ? decodeEntities(match[2] ?? match[3] ?? '') : undefined;
}

function unwrapCdata(text: string): string {
  return text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, inner: string) => inner.replace(/[&<>]/g, (c) => `&${c === '&' ? 'amp' : c === '<' ? 'lt' : 'gt'};`));
}

/**
 * Parses one file's text.
 * @throws Error naming the problem (a string outside a task, a task without a name, nothing found).
 */
export function parseExtraStrings(xml: string): ExtraString[] {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const strings: ExtraString[] = [];
  const taskPattern = /<task\b([^>]*)>([\s\S]*?)<\/task\s*>/g;
  for (let task = taskPattern.exec(text); task; task = taskPattern.exec(text)) {
    const taskName = attribute(task[1]!, 'name');
    if (!taskName) throw new Error('a <task> element has no name attribute');
    const stringPattern = /<string\b([^>]*?)(\/>|>([\s\S]*?)<\/string\s*>)/g;
    for (let s = stringPattern.exec(task[2]!); s; s = stringPattern.exec(task[2]!)) {
      const name = attribute(s[1]!, 'name');
      if (!name) throw new Error(`a <string> of task "${taskName}" has no name attribute`);
      strings.push({ task: taskName, name, language: attribute(s[1]!, 'language') ?? '', value: decodeEntities(unwrapCdata(s[3] ?? '')).trim() });
    }
  }
  if (/<string\b/.test(text.replace(/<task\b[\s\S]*?<\/task\s*>/g, ''))) throw new Error('<string> elements must be inside <task name="...">');
  if (!strings.length) throw new Error('no <task><string> elements found');
  return strings;
}
