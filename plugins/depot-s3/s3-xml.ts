// Reading the few fields the depot needs from S3's XML answers. S3's answers are flat,
// machine-written documents; element contents are text with the five XML entities.
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, name: string, dec?: string, hexCode?: string) =>
    dec ? String.fromCodePoint(Number(dec)) : hexCode ? String.fromCodePoint(parseInt(hexCode, 16)) : ENTITIES[name]!,
  );
}

/** The raw inner XML of every `<name>...</name>` element, in order. */
export function xmlTags(xml: string, name: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<${name}(?:\\s[^>]*)?>`, 'g');
  const close = `</${name}>`;
  while (open.exec(xml)) {
    const end = xml.indexOf(close, open.lastIndex);
    if (end < 0) break;
    out.push(xml.slice(open.lastIndex, end));
    open.lastIndex = end + close.length;
  }
  return out;
}

/** The decoded text of the first `<name>` element, or undefined. */
export function xmlText(xml: string, name: string): string | undefined {
  const [inner] = xmlTags(xml, name);
  return inner === undefined ? undefined : decode(inner);
}
