// Issue 13: a load balancer's health probe. fsbridge answers OPTIONS through drachtio-server (the
// twin here; the real one in test/real/issue-13-scale-out.real.test.ts, where Kamailio probes it):
// 200 while it takes calls, 503 once it cannot (FreeSWITCH lost), each answer counted.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { startTwinDaemon } from '../../helpers/twin-daemon.js';
import { until } from '../../helpers/harness.js';

/** Sends one OPTIONS to `port` on loopback; resolves with the status of the answer. */
async function options(port: number, n: number): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  try {
    const me = s.address().port;
    const answer = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to OPTIONS')), 5000);
      s.on('message', (b) => { clearTimeout(timer); resolve(Number(/^SIP\/2\.0 (\d{3})/.exec(b.toString())?.[1])); });
    });
    s.send([
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKhealth${n}`, 'Max-Forwards: 70',
      `From: <sip:kamailio@127.0.0.1>;tag=h${n}`, `To: <sip:127.0.0.1:${port}>`, `Call-ID: health-${n}@127.0.0.1`, `CSeq: ${n} OPTIONS`,
      'Content-Length: 0', '', '',
    ].join('\r\n'), port, '127.0.0.1');
    return await answer;
  } finally {
    s.close();
  }
}

t.test('OPTIONS: 200 while fsbridge takes calls, 503 once it lost FreeSWITCH', async (t) => {
  const d = await startTwinDaemon(t, '');
  const counted = (status: string) => d.daemon.metrics.counter('fsbridge_sip_options_total', '').get({ status });
  t.equal(await options(d.drachtio.sipPort, 1), 200, 'a node that takes calls answers 200');
  t.equal(counted('200'), 1, 'counted');
  await d.fs.close();
  await until(() => d.daemon.metrics.gauge('fsbridge_esl_connected', '').get() === 0, 5000, 'the ESL connection lost');
  t.equal(await options(d.drachtio.sipPort, 2), 503, 'without FreeSWITCH it answers 503: the load balancer takes it out');
  t.equal(counted('503'), 1, 'counted');
});
