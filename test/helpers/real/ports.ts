// The test processes' port picks are bench/lib/ports.ts (shared with the benchmarks).
export * from '../../../bench/lib/ports.js';
