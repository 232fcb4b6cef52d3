import { fieldValue } from './fields.js';
import type { RunRow, Scalar } from './types.js';

/**
 * The runs-table filter. Plain text matches (case-insensitively) the run name, status or any
 * config value. Text containing one of `< > = ! ~ & | (` is an expression:
 *   ppl < 50 && model.layers >= 2 || status == "running"
 *   !(backend == wasm) and name ~ sllm
 * Operators: == != < <= > >= ~ (contains, case-insensitive); && || ! (or and/or/not); parens.
 * Operands: field names (see fieldValue), numbers, 'strings' / "strings", true/false/null.
 * A bare field is true when present and not false/0/empty.
 */
export type Predicate = (row: RunRow) => boolean;

export class FilterSyntaxError extends Error {}

export function compileFilter(text: string): Predicate {
  const trimmed = text.trim();
  if (trimmed.length === 0) return () => true;
  if (!/[<>=!~&|(]/.test(trimmed)) {
    const needle = trimmed.toLowerCase();
    return (row) => searchText(row).includes(needle);
  }
  const parser = new Parser(tokenize(trimmed));
  const node = parser.parseExpr();
  parser.expectEnd();
  return (row) => truthy(evaluate(node, row));
}

function searchText(row: RunRow): string {
  const parts = [row.id, row.ok ? (row.status ?? '') : `error ${row.error ?? ''}`, row.backend ?? ''];
  for (const v of Object.values(row.config ?? {})) parts.push(String(v));
  return parts.join('\n').toLowerCase();
}

type Token =
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'str'; value: string; pos: number }
  | { kind: 'ident'; value: string; pos: number };

const OPS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '~', '!', '(', ')', '='];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', value: op === '=' ? '==' : op, pos: i });
      i += op.length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new FilterSyntaxError(`unterminated string starting at column ${i + 1}`);
      tokens.push({ kind: 'str', value: src.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const num = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(src.slice(i));
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_@][\w./@-]*/.exec(src.slice(i));
    if (ident) {
      const word = ident[0];
      const asOp = word === 'and' ? '&&' : word === 'or' ? '||' : word === 'not' ? '!' : undefined;
      tokens.push(asOp ? { kind: 'op', value: asOp, pos: i } : { kind: 'ident', value: word, pos: i });
      i += word.length;
      continue;
    }
    throw new FilterSyntaxError(`unexpected "${c}" at column ${i + 1}`);
  }
  return tokens;
}

type Node =
  | { type: 'lit'; value: Scalar }
  | { type: 'field'; name: string }
  | { type: 'not'; arg: Node }
  | { type: 'and' | 'or'; left: Node; right: Node }
  | { type: 'cmp'; op: string; left: Node; right: Node };

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peekOp(...ops: string[]): boolean {
    const t = this.tokens[this.i];
    return t !== undefined && t.kind === 'op' && ops.includes(t.value);
  }

  parseExpr(): Node {
    let left = this.parseAnd();
    while (this.peekOp('||')) {
      this.i++;
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Node {
    let left = this.parseNot();
    while (this.peekOp('&&')) {
      this.i++;
      left = { type: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Node {
    if (this.peekOp('!')) {
      this.i++;
      return { type: 'not', arg: this.parseNot() };
    }
    return this.parseCmp();
  }

  private parseCmp(): Node {
    const left = this.parsePrimary();
    if (this.peekOp('==', '!=', '<', '<=', '>', '>=', '~')) {
      const op = (this.tokens[this.i++] as { value: string }).value;
      return { type: 'cmp', op, left, right: this.parsePrimary() };
    }
    return left;
  }

  private parsePrimary(): Node {
    const t = this.tokens[this.i++];
    if (!t) throw new FilterSyntaxError('expression ends too early');
    if (t.kind === 'num' || t.kind === 'str') return { type: 'lit', value: t.value };
    if (t.kind === 'ident') {
      if (t.value === 'true') return { type: 'lit', value: true };
      if (t.value === 'false') return { type: 'lit', value: false };
      if (t.value === 'null') return { type: 'lit', value: null };
      return { type: 'field', name: t.value };
    }
    if (t.value === '(') {
      const inner = this.parseExpr();
      if (!this.peekOp(')')) throw new FilterSyntaxError(`missing ")" for "(" at column ${t.pos + 1}`);
      this.i++;
      return inner;
    }
    throw new FilterSyntaxError(`unexpected "${t.value}" at column ${t.pos + 1}`);
  }

  expectEnd(): void {
    const t = this.tokens[this.i];
    if (t) throw new FilterSyntaxError(`unexpected "${String(t.value)}" at column ${t.pos + 1}`);
  }
}

function evaluate(node: Node, row: RunRow): Scalar | undefined {
  switch (node.type) {
    case 'lit':
      return node.value;
    case 'field':
      return fieldValue(row, node.name);
    case 'not':
      return !truthy(evaluate(node.arg, row));
    case 'and':
      return truthy(evaluate(node.left, row)) && truthy(evaluate(node.right, row));
    case 'or':
      return truthy(evaluate(node.left, row)) || truthy(evaluate(node.right, row));
    case 'cmp':
      return compare(node.op, evaluate(node.left, row), evaluateRight(node.right, row));
  }
}

/** On the right of a comparison a name that is no field reads as text: `backend == wasm`. */
function evaluateRight(node: Node, row: RunRow): Scalar | undefined {
  if (node.type === 'field') return fieldValue(row, node.name) ?? node.name;
  return evaluate(node, row);
}

function compare(op: string, a: Scalar | undefined, b: Scalar | undefined): boolean {
  if (op === '~') return a !== undefined && a !== null && b !== undefined && b !== null && String(a).toLowerCase().includes(String(b).toLowerCase());
  if (op === '==') return looseEqual(a, b);
  if (op === '!=') return !looseEqual(a, b);
  if (a === undefined || a === null || b === undefined || b === null) return false;
  const x = typeof a === 'number' ? a : Number(a);
  const y = typeof b === 'number' ? b : Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) {
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  }
  const c = String(a).localeCompare(String(b));
  return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
}

function looseEqual(a: Scalar | undefined, b: Scalar | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === null || b === null) return a === b;
  return typeof a === typeof b ? a === b : String(a) === String(b);
}

function truthy(v: Scalar | undefined): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}
