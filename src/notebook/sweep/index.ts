/**
 * Parameter sweeps over one notebook: the grid and its config file, a local
 * sweep with bounded concurrency (`sweep.ts`), and the same sweep spread over
 * machines through a BullMQ queue (`coordinator.ts` enqueues and collects,
 * `worker.ts` runs jobs, `queue.ts` is the job format both agree on).
 */
export { runSweep, parseGridAxis, expandGrid, sweepCsv, parseSweepConfig, readSweepConfig, writeSweepOutputs } from './sweep';
export type { SweepConfig, SweepOptions } from './sweep';
export { queueSweep, resumeQueuedSweep } from './coordinator';
export type { QueuedProgress, QueuedSweepOptions } from './coordinator';
export { startWorker } from './worker';
export type { RunningWorker, WorkerOptions } from './worker';
