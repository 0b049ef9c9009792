// A JSON parser that keeps what JSON.parse loses and the CBV 2.0 event hash depends on.
//
// Lotlink hashes events in Python, where 4 (int) and 4.0 (float) are different values whose text
// ("4" / "4.0") decides the order of list members before hashing. JSON.parse makes both the
// number 4. Here a number stays a PyNumber holding its lexeme; objects keep their key order even
// for integer-like keys (which plain JS objects reorder), and duplicate keys are refused.

export class PyNumber {
  constructor(lexeme) {
    this.lexeme = lexeme;
    this.isFloat = /[.eE]/.test(lexeme);
  }
  valueOf() {
    return Number(this.lexeme);
  }
  toJSON() {
    return Number(this.lexeme);
  }
}

/** An object whose keys keep their JSON order: a Map. */
export class JsonObject extends Map {}

export class JsonSyntaxError extends Error {}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parse JSON text: objects become JsonObject (Map), numbers PyNumber, the rest as usual. */
export function parseExact(text) {
  let i = 0;
  const fail = (why) => {
    throw new JsonSyntaxError(`${why} at character ${i}`);
  };
  const skip = () => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const string = () => {
    i++; // opening quote
    let out = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (e in ESCAPES) {
          out += ESCAPES[e];
          i += 2;
        } else fail('bad escape');
      } else if (c < ' ') {
        fail('control character in string');
      } else {
        out += c;
        i++;
      }
    }
  };
  const value = () => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new JsonObject();
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        if (obj.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        skip();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj.set(key, value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return new PyNumber(m[0]);
    }
    return fail('unexpected character');
  };
  const result = value();
  skip();
  if (i !== text.length) fail('trailing text');
  return result;
}

/** A JsonObject tree (or plain JSON) as plain JS values, numbers as Numbers. */
export function toPlain(value) {
  if (value instanceof PyNumber) return Number(value.lexeme);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value) Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}
