// Writes docs/errors.md from src/error-catalog.ts. Run with `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/error-catalog.js';

writeFileSync(new URL('../../docs/errors.md', import.meta.url), renderErrorsDoc());
