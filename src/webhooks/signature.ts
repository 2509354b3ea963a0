import { createHmac } from 'node:crypto';

/**
 * Twilio's request signature (`X-Twilio-Signature`): HMAC-SHA1 keyed with the auth token over the
 * full URL followed by every POST parameter, sorted by name, each name directly followed by its
 * value; base64. Existing Twilio handlers validate fsbridge's callbacks with their usual check.
 */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string>>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** fsbridge's signature of a JSON callback (`X-Fsbridge-Signature`): `sha256=` + hex HMAC-SHA256 of the body. */
export function jsonSignature(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}
