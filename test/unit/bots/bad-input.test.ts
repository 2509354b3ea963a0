import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import t from 'tap';
import type { BotAdapter, BotCommand } from '../../../src/bots/adapter.js';
import { createBotAdapter } from '../../../src/bots/create-adapter.js';
import { BOT_ERRORS } from '../../../src/bots/error-codes.js';
import { base64DecodedLength } from '../../../src/bots/json-input.js';

const MAX = 4096;
const adapters = (): BotAdapter[] => [
  createBotAdapter('twilio', { maxMessageBytes: MAX }),
  createBotAdapter('exotel', { maxMessageBytes: MAX }),
  createBotAdapter('native', { maxMessageBytes: MAX }),
];
const codeOf = (cmds: BotCommand[]): string | undefined =>
  cmds.length === 1 && (cmds[0].kind === 'error' || cmds[0].kind === 'ignored') ? cmds[0].code : undefined;

/** Shared by all three adapters: malformed JSON text. */
const jsonCases: [string, Buffer, string][] = [
  ['empty text', Buffer.alloc(0), 'BOT_BAD_JSON'],
  ['not JSON', Buffer.from('hello'), 'BOT_BAD_JSON'],
  ['truncated JSON', Buffer.from('{"event":"mark","mark":{"name":"a"}'), 'BOT_BAD_JSON'],
  ['array', Buffer.from('[{"event":"clear"}]'), 'BOT_BAD_JSON'],
  ['number', Buffer.from('3'), 'BOT_BAD_JSON'],
  ['null', Buffer.from('null'), 'BOT_BAD_JSON'],
  ['string', Buffer.from('"clear"'), 'BOT_BAD_JSON'],
  ['no event', Buffer.from('{"mark":{"name":"a"}}'), 'BOT_MISSING_FIELD'],
  ['event not a string', Buffer.from('{"event":5}'), 'BOT_BAD_FIELD'],
  ['event is an object', Buffer.from('{"event":{"name":"clear"}}'), 'BOT_BAD_FIELD'],
  ['unknown event', Buffer.from('{"event":"teleport"}'), 'BOT_UNKNOWN_EVENT'],
  ['event with different case', Buffer.from('{"event":"CLEAR"}'), 'BOT_UNKNOWN_EVENT'],
  ['invalid UTF-8 byte', Buffer.from([0x7b, 0x22, 0x65, 0xff, 0x22, 0x7d]), 'BOT_BAD_UTF8'],
  ['overlong UTF-8', Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]), 'BOT_BAD_UTF8'],
  ['UTF-16 surrogate in UTF-8', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'BOT_BAD_UTF8'],
  ['truncated multibyte', Buffer.from([0x22, 0xe2, 0x82]), 'BOT_BAD_UTF8'],
  ['oversize text', Buffer.from(`{"event":"mark","mark":{"name":"${'x'.repeat(MAX)}"}}`), 'BOT_OVERSIZE'],
];

for (const a of adapters()) {
  t.test(`${a.protocol}: malformed JSON text gives one error/ignored command`, async (t) => {
    for (const [name, data, code] of jsonCases) {
      const cmds = a.receive(data, false);
      t.equal(cmds.length, 1, name);
      t.equal(codeOf(cmds), code, name);
    }
  });
}

/** Twilio and Exotel carry audio and marks in nested JSON objects (a string = raw message text). */
const nestedCases: [string, unknown, string, string?][] = [
  ['media without media', { event: 'media' }, 'BOT_MISSING_FIELD', 'media.payload'],
  ['media is a string', { event: 'media', media: 'AAAA' }, 'BOT_BAD_FIELD', 'media'],
  ['media is an array', { event: 'media', media: ['AAAA'] }, 'BOT_BAD_FIELD', 'media'],
  ['media is null', { event: 'media', media: null }, 'BOT_BAD_FIELD', 'media'],
  ['payload missing', { event: 'media', media: {} }, 'BOT_MISSING_FIELD', 'media.payload'],
  ['payload null', { event: 'media', media: { payload: null } }, 'BOT_MISSING_FIELD', 'media.payload'],
  ['payload number', { event: 'media', media: { payload: 1234 } }, 'BOT_BAD_FIELD', 'media.payload'],
  ['payload array', { event: 'media', media: { payload: ['AAAA'] } }, 'BOT_BAD_FIELD', 'media.payload'],
  ['payload with bad characters', { event: 'media', media: { payload: 'AA@A' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['payload with whitespace', { event: 'media', media: { payload: 'AAAA AAAA' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['payload with newline', { event: 'media', media: { payload: 'AAAA\nAAAA' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['payload base64url', { event: 'media', media: { payload: '-_-_' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['payload length 1 mod 4', { event: 'media', media: { payload: 'AAAAA' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['padding in the middle', { event: 'media', media: { payload: 'AA==AAAA' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['three pad characters', { event: 'media', media: { payload: 'A===' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['padding on wrong length', { event: 'media', media: { payload: 'AAA==' } }, 'BOT_BAD_BASE64', 'media.payload'],
  ['non-ASCII in payload', { event: 'media', media: { payload: 'AAÄA' } }, 'BOT_BAD_BASE64', 'media.payload'],
  // Raw text: JSON.stringify would drop a __proto__ key.
  ['__proto__ payload is not an own field', '{"event":"media","media":{"__proto__":{"payload":"AAAA"}}}', 'BOT_MISSING_FIELD', 'media.payload'],
  ['mark without mark', { event: 'mark' }, 'BOT_MISSING_FIELD', 'mark.name'],
  ['mark without name', { event: 'mark', mark: {} }, 'BOT_MISSING_FIELD', 'mark.name'],
  ['mark name number', { event: 'mark', mark: { name: 3 } }, 'BOT_BAD_FIELD', 'mark.name'],
  ['mark name object', { event: 'mark', mark: { name: { toString: 'x' } } }, 'BOT_BAD_FIELD', 'mark.name'],
  ['mark name too long', { event: 'mark', mark: { name: 'n'.repeat(1025) } }, 'BOT_BAD_FIELD', 'mark.name'],
];

for (const a of adapters().filter((x) => x.protocol !== 'native')) {
  t.test(`${a.protocol}: bad media and mark fields give one error with the field`, async (t) => {
    for (const [name, msg, code, detail] of nestedCases) {
      const data = Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg));
      t.same(a.receive(data, false), [{ kind: 'error', code, detail }], name);
    }
    t.same(a.receive(Buffer.from('{"event":"media"}'), true), [{ kind: 'ignored', code: 'BOT_BINARY_IGNORED' }], 'binary where text is expected');
  });

  t.test(`${a.protocol}: a huge payload is refused before decoding`, async (t) => {
    const big = Buffer.from(JSON.stringify({ event: 'media', media: { payload: 'A'.repeat(MAX) } }));
    t.same(a.receive(big, false), [{ kind: 'error', code: 'BOT_OVERSIZE' }]);
    const huge = Buffer.alloc(10 * 1024 * 1024, 0x41);
    t.same(a.receive(huge, false), [{ kind: 'error', code: 'BOT_OVERSIZE' }]);
  });
}

const allCodes = new Set(Object.keys(BOT_ERRORS));
function wellFormed(cmds: BotCommand[]): boolean {
  if (cmds.length > 1) return false;
  for (const c of cmds) {
    if ((c.kind === 'error' || c.kind === 'ignored') && !allCodes.has(c.code)) return false;
    if (c.kind === 'audio' && !(c.pcm instanceof Int16Array)) return false;
  }
  return true;
}

for (const a of adapters()) {
  t.test(`${a.protocol}: fast-check — arbitrary bytes never throw, give at most one command`, async (t) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, isBinary) =>
      wellFormed(a.receive(Buffer.from(bytes), isBinary))), { numRuns: 500 });
    t.pass();
  });

  t.test(`${a.protocol}: fast-check — invalid UTF-8 text is always BOT_BAD_UTF8`, async (t) => {
    fc.assert(fc.property(
      fc.string({ maxLength: 40 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 40 }),
      (pre, junk, post) => {
        const data = Buffer.concat([Buffer.from(pre), Buffer.from(junk), Buffer.from(post)]);
        fc.pre(!isUtf8(data));
        return codeOf(a.receive(data, false)) === 'BOT_BAD_UTF8';
      },
    ), { numRuns: 300 });
    t.pass();
  });

  t.test(`${a.protocol}: fast-check — JSON with wrong types in every field never throws`, async (t) => {
    const anyValue = fc.oneof(fc.jsonValue(), fc.string(), fc.constant(undefined));
    fc.assert(fc.property(
      fc.constantFrom('media', 'mark', 'clear', 'dtmf', 'hangup', 'transfer', 'start', 'stop', 'connected', ''),
      fc.record({
        media: anyValue, mark: anyValue, name: anyValue, digits: anyValue, reason: anyValue, target: anyValue,
        streamSid: anyValue, stream_sid: anyValue,
      }, { requiredKeys: [] }),
      (event, rest) => wellFormed(a.receive(Buffer.from(JSON.stringify({ event, ...rest })), false)),
    ), { numRuns: 500 });
    t.pass();
  });
}

t.test('fast-check — base64 validation agrees with a real encoder and rejects foreign characters', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const b64 = Buffer.from(bytes).toString('base64');
    return base64DecodedLength(b64) === bytes.length && base64DecodedLength(b64.replace(/=+$/, '')) === bytes.length;
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.uint8Array({ minLength: 3, maxLength: 300 }), fc.nat(), fc.constantFrom('!', ' ', '-', '_', '\n', '.', 'é', '='),
    (bytes, at, bad) => {
      const b64 = Buffer.from(bytes).toString('base64').replace(/=+$/, '');
      const i = at % b64.length;
      return base64DecodedLength(b64.slice(0, i) + bad + b64.slice(i + 1)) === -1 ||
        (bad === '=' && i >= b64.length - 2);
    }), { numRuns: 300 });
  t.pass();
});

t.test('fast-check — twilio and exotel media: valid base64 of any bytes decodes to the right length', async (t) => {
  const [tw, ex] = adapters();
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 1000 }), (bytes) => {
    const msg = Buffer.from(JSON.stringify({ event: 'media', media: { payload: Buffer.from(bytes).toString('base64') } }));
    const a = tw.receive(msg, false)[0];
    const e = ex.receive(msg, false)[0];
    const twOk = a.kind === 'audio' && a.pcm.length === bytes.length;
    const exOk = bytes.length % 2 === 1 ? e.kind === 'error' && e.code === 'BOT_BAD_AUDIO_LENGTH'
      : e.kind === 'audio' && e.pcm.length === bytes.length / 2;
    return twOk && exOk;
  }), { numRuns: 300 });
  t.pass();
});
