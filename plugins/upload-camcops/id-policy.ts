// CamCOPS's ID policy language, e.g. `sex AND ((idnum1 AND dob) OR idnum2)`: which
// identifying details a patient must have before an upload (or a finalising upload) is
// accepted. Terms: forename, surname, dob, sex, address, gp, otherdetails, email, idnum<N>,
// anyidnum, otheridnum (an ID number the policy does not name); AND, OR, NOT, brackets.
// NOT binds tightest, then AND, then OR.

/** What the policy looks at in a patient (true when the detail is present). */
export interface PatientDetails {
  forename?: string | null;
  surname?: string | null;
  dob?: string | null;
  sex?: string | null;
  address?: string | null;
  gp?: string | null;
  otherdetails?: string | null;
  email?: string | null;
  /** which_idnum -> value (present ones only). */
  idnums: ReadonlyMap<number, number>;
}

type PolicyNode =
  | { kind: 'and' | 'or'; left: PolicyNode; right: PolicyNode }
  | { kind: 'not'; operand: PolicyNode }
  | { kind: 'field'; field: Exclude<keyof PatientDetails, 'idnums'> }
  | { kind: 'idnum'; which: number }
  | { kind: 'anyidnum' }
  | { kind: 'otheridnum' };

const FIELDS = new Set(['forename', 'surname', 'dob', 'sex', 'address', 'gp', 'otherdetails', 'email']);

/** A parsed policy. */
export class IdPolicy {
  private constructor(
    readonly text: string,
    private readonly root: PolicyNode | undefined,
    /** The idnum types the policy names. */
    readonly namedIdnums: ReadonlySet<number>,
  ) {}

  /**
   * Parses a policy; an empty one accepts every patient.
   * @throws Error saying where the text is wrong.
   */
  static parse(text: string): IdPolicy {
    const tokens = text.match(/\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S/g) ?? [];
    const named = new Set<number>();
    let position = 0;
    const peek = (): string | undefined => tokens[position]?.toLowerCase();
    const fail = (message: string): never => {
      throw new Error(`ID policy "${text}": ${message} at token ${position + 1}`);
    };
    const parseOr = (): PolicyNode => {
      let node = parseAnd();
      while (peek() === 'or') {
        position++;
        node = { kind: 'or', left: node, right: parseAnd() };
      }
      return node;
    };
    const parseAnd = (): PolicyNode => {
      let node = parseNot();
      while (peek() === 'and') {
        position++;
        node = { kind: 'and', left: node, right: parseNot() };
      }
      return node;
    };
    const parseNot = (): PolicyNode => {
      if (peek() === 'not') {
        position++;
        return { kind: 'not', operand: parseNot() };
      }
      return parseAtom();
    };
    const parseAtom = (): PolicyNode => {
      const token = peek();
      if (token === undefined) return fail('unexpected end');
      position++;
      if (token === '(') {
        const inner = parseOr();
        if (peek() !== ')') fail('expected ")"');
        position++;
        return inner;
      }
      if (FIELDS.has(token)) return { kind: 'field', field: token as Exclude<keyof PatientDetails, 'idnums'> };
      if (token === 'anyidnum') return { kind: 'anyidnum' };
      if (token === 'otheridnum') return { kind: 'otheridnum' };
      const idnum = /^idnum(\d{1,6})$/.exec(token);
      if (idnum) {
        const which = Number(idnum[1]);
        if (which < 1) fail('ID number types start at 1');
        named.add(which);
        return { kind: 'idnum', which };
      }
      position--;
      return fail(`unknown term "${tokens[position]}"`);
    };
    if (!tokens.length) return new IdPolicy(text, undefined, named);
    const root = parseOr();
    if (position < tokens.length) fail(`unexpected "${tokens[position]}"`);
    return new IdPolicy(text, root, named);
  }

  /** True when the patient satisfies the policy. */
  accepts(patient: PatientDetails): boolean {
    if (!this.root) return true;
    const present = (value: string | null | undefined): boolean => typeof value === 'string' && value.trim() !== '';
    const evaluate = (node: PolicyNode): boolean => {
      switch (node.kind) {
        case 'and':
          return evaluate(node.left) && evaluate(node.right);
        case 'or':
          return evaluate(node.left) || evaluate(node.right);
        case 'not':
          return !evaluate(node.operand);
        case 'field':
          return present(patient[node.field]);
        case 'idnum':
          return patient.idnums.has(node.which);
        case 'anyidnum':
          return patient.idnums.size > 0;
        case 'otheridnum':
          return [...patient.idnums.keys()].some((which) => !this.namedIdnums.has(which));
      }
    };
    return evaluate(this.root);
  }
}
