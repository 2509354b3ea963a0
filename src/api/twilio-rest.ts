/**
 * The subset of Twilio's REST API that bots use to hang up:
 * `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with `Status=completed`
 * (form-encoded, HTTP Basic AccountSid:AuthToken). Answers 200 with a call resource, or 404 with
 * Twilio's error body (code 20404) when the call is gone, so clients that treat 20404 as
 * "already ended" keep working.
 */
export const TWILIO_CALL_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

export interface TwilioCallView {
  /** fsbridge's call id. */
  callId: string;
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  startTime: string;
}

/** A call resource in Twilio's JSON shape (the fields clients read). */
export function twilioCallResource(c: TwilioCallView, status: 'completed' | 'in-progress'): Record<string, unknown> {
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    from: c.from,
    to: c.to,
    status,
    direction: c.direction === 'inbound' ? 'inbound' : 'outbound-api',
    start_time: new Date(c.startTime).toUTCString(),
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
  };
}

export function twilioNotFound(path: string): Record<string, unknown> {
  return {
    code: 20404,
    message: `The requested resource ${path} was not found`,
    more_info: 'https://www.twilio.com/docs/errors/20404',
    status: 404,
  };
}
