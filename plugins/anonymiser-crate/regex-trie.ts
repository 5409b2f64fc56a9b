// Compiles a set of literal words into one regular-expression alternation shaped as a trie
// ("jo(?:hn|an(?:na)?)" rather than "john|joan|joanna"): the engine then tests each position
// of the text against shared prefixes once, instead of once per word.
import { escapeRegex } from './scrub-regex-elements.js';

interface TrieNode {
  end: boolean;
  children: Map<string, TrieNode>;
}

/**
 * @param words - literal words (callers lower-case them when the regex is case-insensitive)
 * @returns a group-free pattern matching exactly the words (longest first at each branch), or
 *   undefined for no words
 */
export function trieRegex(words: Iterable<string>): string | undefined {
  const root: TrieNode = { end: false, children: new Map() };
  let any = false;
  for (const word of words) {
    if (!word) continue;
    any = true;
    let node = root;
    for (const ch of word) {
      let next = node.children.get(ch);
      if (!next) node.children.set(ch, (next = { end: false, children: new Map() }));
      node = next;
    }
    node.end = true;
  }
  return any ? render(root) : undefined;
}

function render(node: TrieNode): string {
  const branches = [...node.children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ch, child]) => escapeRegex(ch) + render(child));
  if (!branches.length) return '';
  const body = branches.length === 1 ? branches[0]! : `(?:${branches.join('|')})`;
  if (!node.end) return body;
  // A word ends here and longer ones continue: the longer ones are tried first (greedy ?).
  return branches.length === 1 && [...branches[0]!].length === 1 ? `${body}?` : `(?:${body})?`;
}
