import type { ServerResponse } from 'node:http';
import type { Principal } from '../tenants/roles.js';
import { wavHeader } from '../media/wav-header.js';
import { drainedOrClosed, sendJson } from './http-util.js';
import type { RecordingRead } from '../recordings/recordings.js';
import { visibleCall, type CallRoutesBackend, type Fail } from './call-routes.js';

/**
 * `GET /v1/calls/{id}/recording`: the call's recording as a 16-bit stereo WAV (caller left, bot
 * right), decrypted while it is sent, honouring back-pressure. Another tenant's call is 404, as
 * one that does not exist. `X-Fsbridge-Recording: incomplete` marks a recording cut short (a
 * write failure or a crash); a chunk that does not authenticate ends the body early (the
 * connection is destroyed, so a client cannot take a partial file for a whole one).
 */
export async function sendRecording(
  res: ServerResponse, callId: string, p: Principal, b: CallRoutesBackend, read: (callId: string) => Promise<RecordingRead>, fail: Fail,
): Promise<void> {
  const got = await visibleCall(callId, p, b);
  if (got === 'unavailable') return fail(503, 'API_STORE_UNAVAILABLE', 'the call store is not reachable');
  if (!got) return fail(404, 'API_NOT_FOUND', 'no such call');
  let r: RecordingRead;
  try { r = await read(callId); } catch { return fail(503, 'API_STORE_UNAVAILABLE', 'the call store is not reachable'); }
  // RECORDING_CORRUPT was counted and logged where it was found
  if (!r.ok) return r.code === 'RECORDING_CORRUPT' ? sendJson(res, r.status, { error: { code: r.code, message: r.message } }) : fail(r.status, r.code, r.message);
  res.writeHead(200, {
    'content-type': 'audio/wav', 'content-length': String(44 + r.plainBytes), 'cache-control': 'no-store',
    'content-disposition': `attachment; filename="${callId.replace(/[^A-Za-z0-9._-]/g, '_')}.wav"`,
    'x-fsbridge-recording': r.complete ? 'complete' : 'incomplete',
  });
  if (res.req.method === 'HEAD') { res.end(); return; }
  res.write(wavHeader(r.plainBytes, r.rateHz, 2));
  try {
    for await (const chunk of r.audio) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
  } catch {
    res.destroy();
    return;
  }
  res.end();
}
