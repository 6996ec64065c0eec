// A job's statuses, in one place (the state machine in transitions.ts moves between them).
export const JOB_STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job in one of these has a worker on it or waiting for it: at most one per video. */
export const ACTIVE_STATUSES = ['QUEUED', 'PROCESSING'] as const satisfies readonly JobStatus[];
/** retryJob runs a job in one of these again. */
export const RETRYABLE_STATUSES = ['FAILED', 'TIMED_OUT', 'CANCELLED'] as const satisfies readonly JobStatus[];
export type TerminalStatus = 'COMPLETED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED';
export const TERMINAL_STATUSES = ['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] as const satisfies readonly TerminalStatus[];
