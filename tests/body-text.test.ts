import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodyTexts } from '../broker/produce/body-text';

/** What the broker stores must be the JSON of the value JSON.parse gave the validator. */
function check(text: string): string[] {
  const parsed = JSON.parse(text) as { messages: { body: unknown }[] };
  const texts = bodyTexts(text, parsed.messages.length);
  assert.ok(texts, `no body texts for ${text.slice(0, 200)}`);
  texts.forEach((t, i) => assert.deepEqual(JSON.parse(t), parsed.messages[i]!.body, `message ${i}: ${t}`));
  return texts;
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

function randomValue(r: () => number, depth: number): unknown {
  const strings = ['', 'plain', 'quote " inside', 'back\\slash\\', 'braces {[]}', 'é😀', 'nl\n', '\\"', 'a\u0000b'];
  const k = Math.floor(r() * (depth > 3 ? 5 : 7));
  if (k === 0) return strings[Math.floor(r() * strings.length)];
  if (k === 1) return Math.floor(r() * 2e6) / 100 - 1e4;
  if (k === 2) return [true, false, null][Math.floor(r() * 3)];
  if (k === 3) return 1.5e-300 * (r() > 0.5 ? 1 : -1);
  if (k === 4) return '';
  if (k === 5) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(r() * 4); i++) o[strings[Math.floor(r() * strings.length)]! + i] = randomValue(r, depth + 1);
  return o;
}

/** JSON text with whitespace sprinkled between tokens (outside strings). */
function sprinkle(json: string, r: () => number): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += json[++i]!;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if ('{}[],:'.includes(c) && r() < 0.5) out += [' ', '\n', '\t', '\r\n  '][Math.floor(r() * 4)];
  }
  return out;
}

describe('body texts cut from a produce request', () => {
  test('compact requests give the texts JSON.stringify would', () => {
    const req = { messages: [{ body: { pad: 'x'.repeat(50) } }, { body: 'str' }, { body: 42 }, { body: null }, { body: [1, { a: [] }] }, { body: {} }] };
    assert.deepEqual(check(JSON.stringify(req)), req.messages.map((m) => JSON.stringify(m.body)));
  });

  test('whitespace, escaped quotes and backslashes, braces inside strings and other members are handled', () => {
    check('{ "messages" : [ { "key" : "k\\"}" , "body" : { "a" : "x\\\\" , "b" : [ 1 , "]\\"[" ] } , "tag":"t" } ,\n{"body":"\\\\\\""} ] }');
  });

  test('keys spelled with escapes and repeated keys resolve as JSON.parse does', () => {
    const texts = check('{"messages":[{"b\\u006fdy":1,"body":2}],"messages":[{"body":"first","body":{"last":true}}]}');
    assert.deepEqual(texts, ['{"last":true}']);
  });

  test('a thousand random requests, randomly spaced, give bodies equal to the parsed ones', () => {
    const r = random(20261130);
    for (let n = 0; n < 1000; n++) {
      const req = { messages: Array.from({ length: 1 + Math.floor(r() * 5) }, () => ({ body: randomValue(r, 0), ...(r() > 0.5 ? { key: 'k' } : {}) })) };
      check(sprinkle(JSON.stringify(req), r));
    }
  });

  test('a shape it does not expect gives up, so the caller stringifies', () => {
    assert.equal(bodyTexts('{"messages":[{"body":1}]}', 2), undefined, 'count mismatch');
    assert.equal(bodyTexts('[1,2]', 1), undefined);
    assert.equal(bodyTexts('{"messages":[{"nobody":1}]}', 1), undefined);
  });
});
