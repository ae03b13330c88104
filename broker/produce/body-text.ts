/**
 * The JSON text of each message's `body`, cut from the produce request as the client sent it,
 * so the broker need not JSON.stringify what JSON.parse just built: on this machine stringifying
 * the bodies of a 100-message request cost three times the parse of the whole request.
 *
 * Runs only on text JSON.parse accepted and the produce schema validated (an object whose
 * `messages` is an array of objects), so it skips tokens instead of checking them. Duplicate keys
 * resolve as in JSON.parse: the last one wins. Anything unexpected returns undefined and the
 * caller stringifies instead. A body keeps the client's spelling (whitespace, escapes, number
 * format): the same JSON value, not always the same bytes as JSON.stringify would give.
 */
export function bodyTexts(text: string, count: number): string[] | undefined {
  try {
    const scan = new Scanner(text);
    let bodies: string[] | undefined;
    scan.object((key) => {
      if (key !== 'messages') return scan.skipValue();
      const found: string[] = [];
      scan.array(() =>
        found.push(
          scan.objectValue('body') ??
            // The schema requires a body: a message without one never gets here.
            fail(),
        ),
      );
      bodies = found;
    });
    return bodies?.length === count ? bodies : undefined;
  } catch {
    return undefined;
  }
}

function fail(): never {
  throw new Error('unexpected JSON shape');
}

const QUOTE = 34;
const BACKSLASH = 92;

class Scanner {
  private i = 0;

  constructor(private readonly t: string) {}

  private ws(): void {
    for (;;) {
      const c = this.t.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else return;
    }
  }

  private expect(code: number): void {
    this.ws();
    if (this.t.charCodeAt(this.i) !== code) fail();
    this.i++;
  }

  /** Past a string starting at the current quote; returns its raw text, quotes included. */
  private string(): string {
    const start = this.i;
    let j = start;
    for (;;) {
      j = this.t.indexOf('"', j + 1);
      if (j < 0) fail();
      let backslashes = 0;
      while (this.t.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) break;
    }
    this.i = j + 1;
    return this.t.slice(start, this.i);
  }

  private key(): string {
    this.ws();
    if (this.t.charCodeAt(this.i) !== QUOTE) fail();
    const raw = this.string();
    this.expect(58); // :
    this.ws();
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  /** Calls `member` for each key, positioned at its value; `member` must consume the value. */
  object(member: (key: string) => void): void {
    this.expect(123); // {
    this.ws();
    if (this.t.charCodeAt(this.i) === 125) {
      this.i++;
      return;
    }
    for (;;) {
      member(this.key());
      this.ws();
      const c = this.t.charCodeAt(this.i++);
      if (c === 125) return;
      if (c !== 44) fail();
    }
  }

  /** Calls `item` for each element, positioned at it; `item` must consume the element. */
  array(item: () => void): void {
    this.expect(91); // [
    this.ws();
    if (this.t.charCodeAt(this.i) === 93) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      item();
      this.ws();
      const c = this.t.charCodeAt(this.i++);
      if (c === 93) return;
      if (c !== 44) fail();
    }
  }

  /** An object's member `name` as raw text (the last, if repeated), or undefined. */
  objectValue(name: string): string | undefined {
    let found: string | undefined;
    this.object((key) => {
      const start = this.i;
      this.skipValue();
      if (key === name) found = this.t.slice(start, this.i);
    });
    return found;
  }

  skipValue(): void {
    this.ws();
    const c = this.t.charCodeAt(this.i);
    if (c === QUOTE) {
      this.string();
    } else if (c === 123) {
      this.object(() => this.skipValue());
    } else if (c === 91) {
      this.array(() => this.skipValue());
    } else {
      // A number, true, false or null: up to the next delimiter.
      const start = this.i;
      for (;;) {
        const d = this.t.charCodeAt(this.i);
        if (d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9 || Number.isNaN(d)) break;
        this.i++;
      }
      if (this.i === start) fail();
    }
  }
}
