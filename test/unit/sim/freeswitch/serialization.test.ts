import t from 'tap';
import { FsEvent, nameEvent } from '../../../../src/sim/freeswitch/event.js';
import { fsUrlEncode } from '../../../../src/sim/freeswitch/url-encode.js';

t.test('FreeSWITCH URL encoding', async (t) => {
  t.equal(fsUrlEncode('Sun, 22 Nov 2026 03:22:21 GMT'), 'Sun,%2022%20Nov%202026%2003%3A22%3A21%20GMT');
  t.equal(fsUrlEncode('2001:db8::10'), '2001%3Adb8%3A%3A10');
  t.equal(fsUrlEncode('tone_stream://%(1000,0,440);loops=-1'), 'tone_stream%3A//%25(1000,0,440)%3Bloops%3D-1');
  t.equal(fsUrlEncode('+OK\n'), '%2BOK%0A');
  t.equal(fsUrlEncode('"Outbound Call" <default>'), '%22Outbound%20Call%22%20%3Cdefault%3E');
  t.equal(fsUrlEncode('a%41b%4g%zz'), 'a%41b%254g%25zz', '%XX with uppercase hex passes through');
  t.equal(fsUrlEncode('%4a'), '%254a', 'lowercase hex is not a pass-through');
  t.equal(fsUrlEncode('é'), '%C3%A9');
  t.equal(fsUrlEncode('#&?@[\\]^`{|}'), '%23%26%3F%40%5B%5C%5D%5E%60%7B%7C%7D');
  t.equal(fsUrlEncode('/path/x.wav'), '/path/x.wav');
});

t.test('plain and json serialisation', async (t) => {
  const ev = new FsEvent([['Event-Name', 'CUSTOM'], ['Empty', ''], ['Hangup-Cause', 'A'], ['Hangup-Cause', 'B']], '{"status":"connected"}');
  t.equal(ev.plain(), 'Event-Name: CUSTOM\nEmpty: _undef_\nHangup-Cause: A\nHangup-Cause: B\nContent-Length: 22\n\n{"status":"connected"}');
  t.equal(ev.json(), '{"Event-Name":"CUSTOM","Empty":"","Hangup-Cause":"A","Hangup-Cause":"B","Content-Length":"22","_body":"{\\"status\\":\\"connected\\"}"}');
  const nb = new FsEvent([['Event-Name', 'HEARTBEAT']]);
  t.equal(nb.plain(), 'Event-Name: HEARTBEAT\n\n');
  t.equal(nb.json(), '{"Event-Name":"HEARTBEAT"}');
  const mb = new FsEvent([['Event-Name', 'X']], 'é');
  t.match(mb.plain(), /Content-Length: 2\n\né$/, 'inner Content-Length counts bytes');
});

t.test('event names', async (t) => {
  t.equal(nameEvent('channel_answer'), 'CHANNEL_ANSWER');
  t.equal(nameEvent('SWITCH_EVENT_CHANNEL_ANSWER'), 'CHANNEL_ANSWER');
  t.equal(nameEvent('NOSUCH'), undefined);
  t.equal(nameEvent('all'), 'ALL');
});
