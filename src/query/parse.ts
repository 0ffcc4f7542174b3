/**
 * A small expression syntax for query text (the CLI's `--filter` and `--apply`), parsed into the same
 * `Expr` trees `col` and `lit` build:
 *
 *     px > 100 and sym in ('A', 'B')        (bid + ask) / 2        not (venue is null or sym ~ '^X')
 *
 * Precedence, loosest first: `or` / `xor`; `and`; `not`; comparisons (`> >= < <= == != =`, `in (…)`,
 * `not in (…)`, `is null`, `is not null`, `~ 'regex'`); `+ -`; `* /`; unary `-`. Literals: numbers
 * (an integer keeps an int column int; beyond 2^53 a bigint), 'strings' or "strings" (also ISO
 * timestamps, compared with timestamp columns and the index), `true`, `false`, `null`. Names are column
 * names (or the index's); a name that is not a plain identifier goes in backquotes: `` `bid price` ``.
 * `abs(x)` is the one function. Keywords are case-insensitive; `&&` or `&`, `||` or `|`, `!` work too.
 */
import { InvalidArgumentError } from "../errors.ts";
import { col, type Expr, type LiteralValue, lit } from "./expr.ts";

type Token =
  | { kind: "num"; value: number | bigint; at: number }
  | { kind: "str"; value: string; at: number }
  | { kind: "name"; value: string; at: number; quoted: boolean }
  | { kind: "op"; value: string; at: number }
  | { kind: "end"; at: number };

const OPS = [
  "==",
  "!=",
  ">=",
  "<=",
  "&&",
  "||",
  "&",
  "|",
  ">",
  "<",
  "=",
  "+",
  "-",
  "*",
  "/",
  "(",
  ")",
  ",",
  "~",
  "!",
];

/**
 * Parses `text` into an expression. Throws `InvalidArgumentError` naming the position (from 1) and
 * showing it under the text when the syntax is wrong, and as the builder does when the literals alone
 * make it wrong (`'a' > 1`). `what` starts the message (such as "--filter").
 */
export function parseExpr(text: string, what = "expression"): Expr {
  if (typeof text !== "string") {
    throw new InvalidArgumentError(`${what}: give the expression as a string, got ${typeof text}.`);
  }
  return new Parser(text, what).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly what: string,
  ) {
    this.tokens = this.tokenize();
  }

  parseAll(): Expr {
    if (this.peek().kind === "end") this.fail(this.peek().at, "the expression is empty");
    const e = this.or();
    const t = this.peek();
    if (t.kind !== "end") this.fail(t.at, `unexpected ${show(t)}; expected an operator or the end`);
    return e;
  }

  private or(): Expr {
    let left = this.and();
    for (;;) {
      const at = this.peek().at;
      if (this.keyword("or") || this.op("||") || this.op("|")) {
        const right = this.and();
        left = this.build(() => left.or(right), at);
      } else if (this.keyword("xor")) {
        const right = this.and();
        left = this.build(() => left.xor(right), at);
      } else return left;
    }
  }

  private and(): Expr {
    let left = this.not();
    for (;;) {
      const at = this.peek().at;
      if (!(this.keyword("and") || this.op("&&") || this.op("&"))) return left;
      const right = this.not();
      left = this.build(() => left.and(right), at);
    }
  }

  private not(): Expr {
    const at = this.peek().at;
    if (this.keyword("not") || this.op("!")) {
      const arg = this.not();
      return this.build(() => arg.not(), at);
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    const symbols: Record<string, "gt" | "ge" | "lt" | "le" | "eq" | "ne"> = {
      ">": "gt",
      ">=": "ge",
      "<": "lt",
      "<=": "le",
      "==": "eq",
      "=": "eq",
      "!=": "ne",
    };
    if (t.kind === "op" && t.value in symbols) {
      this.i++;
      const right = this.additive();
      return this.build(() => left[symbols[t.value]!](right), t.at);
    }
    if (t.kind === "op" && t.value === "~") {
      this.i++;
      const p = this.next();
      if (p.kind !== "str") this.fail(p.at, `~ needs a 'pattern' in quotes, got ${show(p)}`);
      return this.build(() => left.regexMatch(p.value), t.at);
    }
    if (this.keyword("in")) return this.build(() => left.isin(this.list()), t.at);
    if (this.isKeyword(this.peek(), "not") && this.isKeyword(this.tokens[this.i + 1]!, "in")) {
      this.i += 2;
      return this.build(() => left.isnotin(this.list()), t.at);
    }
    if (this.keyword("is")) {
      const negated = this.keyword("not");
      const n = this.next();
      if (!this.isKeyword(n, "null")) this.fail(n.at, `expected null after 'is${negated ? " not" : ""}'`);
      return this.build(() => (negated ? left.notnull() : left.isnull()), t.at);
    }
    return left;
  }

  private additive(): Expr {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      if (t.kind !== "op" || (t.value !== "+" && t.value !== "-")) return left;
      this.i++;
      const right = this.term();
      left = this.build(() => (t.value === "+" ? left.add(right) : left.sub(right)), t.at);
    }
  }

  private term(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== "op" || (t.value !== "*" && t.value !== "/")) return left;
      this.i++;
      const right = this.unary();
      left = this.build(() => (t.value === "*" ? left.mul(right) : left.div(right)), t.at);
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === "op" && t.value === "-") {
      this.i++;
      const n = this.peek();
      // -3 is the literal -3, as col("x").gt(-3) makes it; -x is neg.
      if (n.kind === "num") {
        this.i++;
        return lit(typeof n.value === "bigint" ? -n.value : -n.value);
      }
      const arg = this.unary();
      return this.build(() => arg.neg(), t.at);
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.next();
    if (t.kind === "num" || t.kind === "str") return lit(t.value);
    if (t.kind === "op" && t.value === "(") {
      const e = this.or();
      this.expect(")", `to close the '(' at position ${t.at + 1}`);
      return e;
    }
    if (t.kind === "name") {
      if (!t.quoted) {
        const word = t.value.toLowerCase();
        if (word === "true" || word === "false") return lit(word === "true");
        if (word === "null") return lit(null);
        if (word === "abs" && this.op("(")) {
          const arg = this.or();
          this.expect(")", "to close abs(");
          return this.build(() => arg.abs(), t.at);
        }
        if (KEYWORDS.has(word)) this.fail(t.at, `expected a value, got the keyword '${t.value}'`);
      }
      return col(t.value);
    }
    return this.fail(
      t.at,
      `expected a value (a column, number, 'string', true, false or null), got ${show(t)}`,
    );
  }

  /** `( literal, … )` after `in`. */
  private list(): LiteralValue[] {
    this.expect("(", "to start the list after in, as in sym in ('A', 'B')");
    const values: LiteralValue[] = [];
    if (this.op(")")) return values;
    for (;;) {
      let sign = 1;
      if (this.op("-")) sign = -1;
      const t = this.next();
      if (t.kind === "num")
        values.push(typeof t.value === "bigint" ? BigInt(sign) * t.value : sign * t.value);
      else if (t.kind === "str" && sign === 1) values.push(t.value);
      else if (
        t.kind === "name" &&
        !t.quoted &&
        sign === 1 &&
        ["true", "false", "null"].includes(t.value.toLowerCase())
      ) {
        const w = t.value.toLowerCase();
        values.push(w === "null" ? null : w === "true");
      } else
        this.fail(
          t.at,
          `a list after in holds literals (numbers, 'strings', true, false, null), got ${show(t)}`,
        );
      if (this.op(")")) return values;
      this.expect(",", "between the values of the list");
    }
  }

  /** Runs a builder call, pointing its error (a type the literals alone prove wrong) at `at`. */
  private build(make: () => Expr, at?: number): Expr {
    try {
      return make();
    } catch (err) {
      if (err instanceof InvalidArgumentError && at !== undefined && !err.message.includes(" at position ")) {
        throw new InvalidArgumentError(`${this.what}: ${err.message} (at position ${at + 1})`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== "end") this.i++;
    return t;
  }
  private op(value: string): boolean {
    const t = this.peek();
    if (t.kind === "op" && t.value === value) {
      this.i++;
      return true;
    }
    return false;
  }
  private isKeyword(t: Token, word: string): boolean {
    return t.kind === "name" && !t.quoted && t.value.toLowerCase() === word;
  }
  private keyword(word: string): boolean {
    if (!this.isKeyword(this.peek(), word)) return false;
    this.i++;
    return true;
  }
  private expect(value: string, why: string): void {
    const t = this.peek();
    if (!this.op(value)) this.fail(t.at, `expected '${value}' ${why}, got ${show(t)}`);
  }

  private fail(at: number, message: string): never {
    const caret = `${" ".repeat(at)}^`;
    throw new InvalidArgumentError(
      `${this.what}: ${message} at position ${at + 1}:\n  ${this.text}\n  ${caret}`,
    );
  }

  private tokenize(): Token[] {
    const s = this.text;
    const out: Token[] = [];
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      const at = i;
      const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s.slice(i));
      if (num) {
        const text = num[0];
        i += text.length;
        if (/^\d+$/.test(text) && !Number.isSafeInteger(Number(text)))
          out.push({ kind: "num", value: BigInt(text), at });
        else out.push({ kind: "num", value: Number(text), at });
        if (i < s.length && /[A-Za-z_]/.test(s[i]!)) this.fail(i, `a number runs into '${s[i]}'`);
        continue;
      }
      if (c === "'" || c === '"' || c === "`") {
        let value = "";
        i++;
        for (;;) {
          if (i >= s.length) {
            this.fail(
              at,
              c === "`"
                ? "this backquoted name is not closed"
                : `this string is not closed (a ${c} is missing)`,
            );
          }
          const d = s[i]!;
          if (d === "\\" && c !== "`" && i + 1 < s.length) {
            value += s[i + 1];
            i += 2;
          } else if (d === c && s[i + 1] === c) {
            value += c; // a doubled quote is the quote itself, as SQL
            i += 2;
          } else if (d === c) {
            i++;
            break;
          } else {
            value += d;
            i++;
          }
        }
        if (c === "`") {
          if (value === "") this.fail(at, "a backquoted name must not be empty");
          out.push({ kind: "name", value, at, quoted: true });
        } else out.push({ kind: "str", value, at });
        continue;
      }
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
      if (word) {
        out.push({ kind: "name", value: word[0], at, quoted: false });
        i += word[0].length;
        continue;
      }
      const op = OPS.find((o) => s.startsWith(o, i));
      if (op === undefined) this.fail(at, `unexpected character '${c}'`);
      out.push({ kind: "op", value: op, at });
      i += op.length;
    }
    out.push({ kind: "end", at: s.length });
    return out;
  }
}

const KEYWORDS = new Set(["and", "or", "xor", "not", "in", "is"]);

function show(t: Token): string {
  switch (t.kind) {
    case "end":
      return "the end";
    case "str":
      return `the string '${t.value}'`;
    case "num":
      return `the number ${t.value}`;
    case "name":
      return t.quoted ? `\`${t.value}\`` : `'${t.value}'`;
    default:
      return `'${t.value}'`;
  }
}
