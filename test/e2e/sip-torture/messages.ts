// Malformed SIP requests modelled on RFC 4475 §3.1.2 and §3.3 (written for fsbridge from the RFC's
// descriptions), with what a sofia-sip stack does with each: 400 / 505 when the top Via can be
// answered, nothing otherwise.

/** One malformed request. `branch` is the Via branch its answer (if any) carries. */
export interface TortureMessage {
  id: string;
  rfc: string;
  expect: 400 | 505 | 'drop';
  branch: string;
  callId: string;
  text: string;
}

/** Where the message goes and where it claims to come from. */
export interface Endpoints {
  targetPort: number;
  localPort: number;
  transport: 'UDP' | 'TCP';
}

let seq = 0;

function build(e: Endpoints, id: string, startLine: string, headers: string[], body = ''): { text: string; branch: string; callId: string } {
  seq++;
  const branch = `z9hG4bK-${id}-${seq}`;
  const callId = `torture-${id}-${seq}@127.0.0.1`;
  const lines = [startLine, ...headers.map((h) => h
    .replaceAll('$VIA', `Via: SIP/2.0/${e.transport} 127.0.0.1:${e.localPort};branch=${branch};rport`)
    .replaceAll('$CALLID', callId)
    .replaceAll('$TARGET', `127.0.0.1:${e.targetPort}`))];
  return { text: lines.join('\r\n') + '\r\n\r\n' + body, branch, callId };
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

/** A valid OPTIONS (the probe that must still get 200 afterwards). */
export function validOptions(e: Endpoints): { text: string; branch: string; callId: string } {
  return build(e, 'probe', `OPTIONS sip:probe@127.0.0.1:${e.targetPort} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:prober@127.0.0.1>;tag=p1', 'To: <sip:probe@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 OPTIONS', 'Content-Length: 0',
  ]);
}

/** The catalogue; fresh branches and Call-IDs on every call. */
export function tortureMessages(e: Endpoints): TortureMessage[] {
  const out: TortureMessage[] = [];
  const add = (id: string, rfc: string, expect: TortureMessage['expect'], startLine: string, headers: string[], body = ''): void => {
    out.push({ id, rfc, expect, ...build(e, id, startLine, headers, body) });
  };
  const ruri = `sip:bob@127.0.0.1:${e.targetPort}`;
  add('extra-separators', '§3.1.2.1 extraneous header field separators', 400, `OPTIONS ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=;tag=a1', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 7 OPTIONS', 'Contact: "Alice" <sip:alice@127.0.0.1>;;;;', 'Content-Length: 0',
  ]);
  add('cl-too-large', '§3.1.2.2 Content-Length larger than the message', 400, `INVITE ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a2', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 INVITE', 'Contact: <sip:alice@127.0.0.1>', 'Content-Type: application/sdp', 'Content-Length: 9999',
  ], SDP);
  add('cl-negative', '§3.1.2.3 negative Content-Length', 400, `INVITE ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a3', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 INVITE', 'Contact: <sip:alice@127.0.0.1>', 'Content-Type: application/sdp', 'Content-Length: -999',
  ], SDP);
  add('scalar-overflow', '§3.1.2.4 overlarge CSeq and Max-Forwards', 400, `OPTIONS ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 300', 'From: <sip:alice@example.org>;tag=a4', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 36893488147419103232 OPTIONS', 'Content-Length: 0',
  ]);
  add('unterminated-quote', '§3.1.2.6 unterminated quoted display name', 400, `INVITE ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a5', 'To: "Bob the Builder <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 INVITE', 'Contact: <sip:alice@127.0.0.1>', 'Content-Length: 0',
  ]);
  add('unclosed-angle', 'name-addr with < but no > (§3.1.2 family)', 400, `OPTIONS ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: "Alice" <sip:alice@example.org;tag=a6', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 3 OPTIONS', 'Content-Length: 0',
  ]);
  add('escaped-headers-in-ruri', '§3.1.2.11 escaped headers in the Request-URI', 400, `INVITE ${ruri}?Route=%3Csip:evil.example.com%3E SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a7', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 INVITE', 'Contact: <sip:alice@127.0.0.1>', 'Content-Length: 0',
  ]);
  add('missing-call-id', '§3.3 missing required header (Call-ID)', 400, `OPTIONS ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a8', 'To: <sip:bob@$TARGET>',
    'CSeq: 9 OPTIONS', 'Content-Length: 0',
  ]);
  add('sip-7', '§3.1.2.16 unknown protocol version SIP/7.0', 505, `OPTIONS ${ruri} SIP/7.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a9', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 OPTIONS', 'Content-Length: 0',
  ]);
  add('cseq-method-mismatch', '§3.1.2.17 start line and CSeq method differ', 400, `INVITE ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a10', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 OPTIONS', 'Contact: <sip:alice@127.0.0.1>', 'Content-Length: 0',
  ]);
  add('multiple-single-values', '§3.3 multiple values in single-value headers', 400, `OPTIONS ${ruri} SIP/2.0`, [
    '$VIA', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a11', 'To: <sip:bob@$TARGET>', 'To: <sip:carol@$TARGET>',
    'Call-ID: $CALLID', 'Call-ID: second-$CALLID', 'CSeq: 1 OPTIONS', 'Content-Length: 0',
  ]);
  add('unusable-via', 'malformed Via (nowhere to answer): dropped', 'drop', `OPTIONS ${ruri} SIP/2.0`, [
    'Via: SIP/2.0/UDP ;branch=z9hG4bK-broken', 'Max-Forwards: 70', 'From: <sip:alice@example.org>;tag=a12', 'To: <sip:bob@$TARGET>',
    'Call-ID: $CALLID', 'CSeq: 1 OPTIONS', 'Content-Length: 0',
  ]);
  return out;
}
