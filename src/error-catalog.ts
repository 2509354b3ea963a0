import type { ErrorTable } from './errors.js';
import { API_ERRORS } from './api/error-codes.js';
import { BOT_ERRORS } from './bots/error-codes.js';
import { CALL_ERRORS } from './calls/error-codes.js';
import { PROCESS_ERRORS } from './cli/error-codes.js';
import { CONFIG_ERRORS } from './config/error-codes.js';
import { ESL_ERRORS } from './esl/error-codes.js';
import { MEDIA_ERRORS } from './media/error-codes.js';
import { SIP_ERRORS } from './sip/error-codes.js';
import { STORE_ERRORS } from './store/error-codes.js';
import { CLUSTER_ERRORS } from './cluster/error-codes.js';
import { RECORDING_ERRORS } from './recordings/error-codes.js';
import { WEBHOOK_ERRORS } from './webhooks/error-codes.js';
import { CAMPAIGN_ERRORS } from './campaigns/error-codes.js';

/**
 * Every error code the daemon reports, by area. docs/errors.md is generated from this
 * (`npm run docs:errors`) and test/unit/errors-docs.test.ts fails when they drift apart.
 */
export const ERROR_CATALOG: { area: string; table: ErrorTable }[] = [
  { area: 'Configuration', table: CONFIG_ERRORS },
  { area: 'Event Socket (FreeSWITCH control)', table: ESL_ERRORS },
  { area: 'Calls', table: CALL_ERRORS },
  { area: 'Media (mod_audio_stream websocket, codecs, playback)', table: MEDIA_ERRORS },
  { area: 'Bots', table: BOT_ERRORS },
  { area: 'SIP (drachtio, trunks)', table: SIP_ERRORS },
  { area: 'Store (call records database)', table: STORE_ERRORS },
  { area: 'Cluster (several nodes sharing PostgreSQL)', table: CLUSTER_ERRORS },
  { area: 'Status callbacks (webhooks)', table: WEBHOOK_ERRORS },
  { area: 'Recordings', table: RECORDING_ERRORS },
  { area: 'Campaigns', table: CAMPAIGN_ERRORS },
  { area: 'HTTP API', table: API_ERRORS },
  { area: 'Daemon process', table: PROCESS_ERRORS },
];

/** Renders docs/errors.md. */
export function renderErrorsDoc(): string {
  const out: string[] = [
    '# Error codes',
    '',
    'Every problem fsbridge reports carries one of these stable codes: in the log line (`code`),',
    'in the counter `fsbridge_errors_total{code="…"}`, and where it applies in the call record',
    '(`errorCode`) or the HTTP answer. Branch on the code, never on the message text.',
    '',
    'This file is generated from `src/error-catalog.ts` by `npm run docs:errors`; a test fails when',
    'they differ.',
    '',
  ];
  for (const { area, table } of ERROR_CATALOG) {
    out.push(`## ${area}`, '', '| code | meaning | consequence |', '|---|---|---|');
    for (const [code, info] of Object.entries(table)) {
      out.push(`| \`${code}\` | ${info.meaning.replace(/\|/g, '\\|')} | ${info.consequence.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
