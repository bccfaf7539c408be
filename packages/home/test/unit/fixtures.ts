import type { Account, Job, Prompt } from '@gleaner/contracts';

export const T0 = Date.parse('2025-06-01T10:00:00.000Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    accountId: 'acc-1',
    konnector: 'github',
    konnectorVersion: '0.1.0',
    worker: null,
    mode: 'manual',
    status: 'running',
    loginStatus: 'pending',
    error: null,
    filesSaved: 0,
    createdAt: iso(T0),
    startedAt: iso(T0),
    endedAt: null,
    ...overrides,
  };
}

export function prompt(overrides: Partial<Prompt> = {}): Prompt {
  return {
    id: 'prompt-1',
    jobId: 'job-1',
    accountId: 'acc-1',
    type: 'sms',
    retry: false,
    status: 'waiting',
    attempts: 0,
    createdAt: iso(T0 + 2_000),
    expiresAt: iso(T0 + 182_000),
    destination: null,
    attemptsLeft: null,
    methods: [],
    method: null,
    trustDevice: null,
    resend: null,
    ...overrides,
  };
}

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: 'acc-1',
    konnector: 'github',
    label: 'me@example.org',
    state: null,
    fields: { login: 'me@example.org' },
    secretFieldsSet: ['password'],
    sessionSaved: false,
    lastJob: null,
    prompt: null,
    needsAction: false,
    actionNeeded: null,
    nextRunAt: null,
    createdAt: iso(T0),
    updatedAt: iso(T0),
    ...overrides,
  };
}
