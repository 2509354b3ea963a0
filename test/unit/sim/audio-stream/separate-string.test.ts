import t from 'tap';
import { separateString } from '../../../../src/sim/freeswitch/audio-stream/separate-string.js';

t.test('blank delimiter: at most max tokens, the last one takes the rest of the line', async (t) => {
  t.same(separateString('u start ws://h/x mono 8k {"a": "b c"}', ' ', 6), ['u', 'start', 'ws://h/x', 'mono', '8k', '{"a": "b c"}']);
  t.same(separateString('a  b   c', ' ', 6), ['a', 'b', 'c']);
  t.same(separateString('a b c d', ' ', 2), ['a', 'b c d']);
  t.same(separateString('  lead trail  ', ' ', 6), ['lead', 'trail']);
  t.same(separateString('', ' ', 6), []);
});

t.test('single quotes group words and are removed', async (t) => {
  t.same(separateString("u send_text 'hello world' x", ' ', 6), ['u', 'send_text', 'hello world', 'x']);
  t.same(separateString(`u stop '{"bye": true}'`, ' ', 6), ['u', 'stop', '{"bye": true}']);
  // quotes inside JSON are stripped by the tokenizer (protocols.md §6 item 18)
  t.same(separateString(`u send_text {'a':1}`, ' ', 6), ['u', 'send_text', '{a:1}']);
  // an unmatched quote stays as text
  t.same(separateString(`u send_text it's`, ' ', 3), ['u', 'send_text', "it's"]);
});

t.test('send_text text is cut at the first blank without quotes', async (t) => {
  t.same(separateString('u send_text {"a": 1}', ' ', 6), ['u', 'send_text', '{"a":', '1}']);
});

t.test('backslash escapes', async (t) => {
  t.same(separateString('a\\ b c', ' ', 6), ['a b', 'c']);
  t.same(separateString('x\\ny', ' ', 6), ['x\ny']);
  t.same(separateString('x\\sy', ' ', 6), ['x y']);
  t.same(separateString('x\\qy', ' ', 6), ['x\\qy']);
  t.same(separateString("x\\'y", ' ', 6), ["x'y"]);
});

t.test('^^X switches the delimiter', async (t) => {
  t.same(separateString('^^|u|start|ws://h:1/x|mono|16k|{"a": "b c"}', ' ', 6), ['u', 'start', 'ws://h:1/x', 'mono', '16k', '{"a": "b c"}']);
  t.same(separateString('^^|u|send_text|hello world', ' ', 6), ['u', 'send_text', 'hello world']);
  t.same(separateString('^^|a||b', ' ', 6), ['a', '', 'b']);
  t.same(separateString('^^|a|b|c|d|e|f|g|h', ' ', 6), ['a', 'b', 'c', 'd', 'e', 'f|g|h']);
  t.same(separateString('^^;a;b', ' ', 6), ['a', 'b']);
  // too short for the ^^X form: the text is taken literally
  t.same(separateString('^^|', ' ', 6), ['^^|']);
});
