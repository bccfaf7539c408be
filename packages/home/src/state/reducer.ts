import type { Account, FileInfo, Job, JobLogLine, KonnectorInfo, Prompt, StackEvent } from '@gleaner/contracts';

/** Everything Home knows, fed by API answers and the realtime stream. Pure: (state, action) → state. */
export interface HomeState {
  session: { status: 'unknown' | 'signed-out' | 'signed-in'; csrfToken: string | null };
  konnectors: KonnectorInfo[] | null;
  accounts: Record<string, Account>;
  accountsLoaded: boolean;
  jobsByAccount: Record<string, Job[]>;
  logsByJob: Record<string, JobLogLine[]>;
  filesByAccount: Record<string, FileInfo[]>;
  /** The realtime stream: Home shows a quiet notice while it is reconnecting. */
  stream: 'connecting' | 'open' | 'retrying';
  /** Prompt answered by this browser, per account (the dialog says "checking…"). */
  answered: Record<string, { promptId: string; jobId: string }>;
  /** Prompts put aside with "Later". */
  dismissed: string[];
}

export type HomeAction =
  | { type: 'session'; status: 'signed-out' | 'signed-in'; csrfToken?: string | null }
  | { type: 'konnectors'; konnectors: KonnectorInfo[] }
  | { type: 'accounts'; accounts: Account[] }
  | { type: 'account'; account: Account }
  | { type: 'account-removed'; accountId: string }
  | { type: 'jobs'; accountId: string; jobs: Job[] }
  | { type: 'logs'; jobId: string; lines: JobLogLine[] }
  | { type: 'files'; accountId: string; files: FileInfo[] }
  | { type: 'event'; event: StackEvent }
  | { type: 'stream'; status: HomeState['stream'] }
  | { type: 'answered'; accountId: string; prompt: { id: string; jobId: string } | null }
  | { type: 'dismiss'; promptId: string }
  | { type: 'undismiss'; promptId: string };

export const initialState: HomeState = {
  session: { status: 'unknown', csrfToken: null },
  konnectors: null,
  accounts: {},
  accountsLoaded: false,
  jobsByAccount: {},
  logsByJob: {},
  filesByAccount: {},
  stream: 'connecting',
  answered: {},
  dismissed: [],
};

/** Keeps the newer of two versions of an account (a list fetched while events arrive may be older). */
function newer(current: Account | undefined, incoming: Account): Account {
  if (current && current.updatedAt > incoming.updatedAt) return current;
  return incoming;
}

function upsertJob(jobs: Job[] | undefined, job: Job): Job[] {
  const list = jobs ? [...jobs] : [];
  const at = list.findIndex((j) => j.id === job.id);
  if (at >= 0) list[at] = job;
  else list.unshift(job);
  return list.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

const STATUS_RANK = { queued: 0, running: 1, done: 2, errored: 2 } as const;
const LOGIN_RANK = { pending: 0, succeeded: 1, failed: 1 } as const;
/** How far a job went: versions of one job only move forward. */
function progressRank(job: Job): number {
  return STATUS_RANK[job.status] * 2 + LOGIN_RANK[job.loginStatus];
}

function mergeLines(current: JobLogLine[] | undefined, lines: JobLogLine[]): JobLogLine[] {
  const bySeq = new Map<number, JobLogLine>();
  for (const line of current ?? []) bySeq.set(line.seq, line);
  for (const line of lines) bySeq.set(line.seq, line);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function withAccount(state: HomeState, account: Account): HomeState {
  return { ...state, accounts: { ...state.accounts, [account.id]: newer(state.accounts[account.id], account) } };
}

function applyJob(state: HomeState, job: Job): HomeState {
  let next: HomeState = {
    ...state,
    jobsByAccount: { ...state.jobsByAccount, [job.accountId]: upsertJob(state.jobsByAccount[job.accountId], job) },
  };
  const account = state.accounts[job.accountId];
  // The account's lastJob follows its newest job so that badges change with no extra request.
  if (account && (!account.lastJob || account.lastJob.id === job.id || account.lastJob.createdAt <= job.createdAt)) {
    next = { ...next, accounts: { ...next.accounts, [account.id]: { ...account, lastJob: job } } };
  }
  return next;
}

function applyPrompt(state: HomeState, prompt: Prompt): HomeState {
  const account = state.accounts[prompt.accountId];
  if (!account) return state;
  if (prompt.status === 'waiting') {
    return { ...state, accounts: { ...state.accounts, [account.id]: { ...account, prompt } } };
  }
  if (account.prompt?.id === prompt.id) {
    return { ...state, accounts: { ...state.accounts, [account.id]: { ...account, prompt } } };
  }
  return state;
}

function applyEvent(state: HomeState, event: StackEvent): HomeState {
  switch (event.type) {
    case 'account.updated':
      return withAccount(state, event.account);
    case 'account.deleted':
      return reduce(state, { type: 'account-removed', accountId: event.accountId });
    case 'job.updated':
      return applyJob(state, event.job);
    case 'prompt.updated':
      return applyPrompt(state, event.prompt);
    case 'job.log':
      // Only the logs someone is looking at are kept; the others are fetched when opened.
      if (!state.logsByJob[event.line.jobId]) return state;
      return {
        ...state,
        logsByJob: {
          ...state.logsByJob,
          [event.line.jobId]: mergeLines(state.logsByJob[event.line.jobId], [event.line]),
        },
      };
    case 'file.saved': {
      const files = state.filesByAccount[event.file.accountId] ?? [];
      const rest = files.filter((f) => f.id !== event.file.id);
      return { ...state, filesByAccount: { ...state.filesByAccount, [event.file.accountId]: [event.file, ...rest] } };
    }
  }
}

export function reduce(state: HomeState, action: HomeAction): HomeState {
  switch (action.type) {
    case 'session':
      if (action.status === 'signed-out')
        return { ...initialState, session: { status: 'signed-out', csrfToken: null } };
      return { ...state, session: { status: 'signed-in', csrfToken: action.csrfToken ?? state.session.csrfToken } };
    case 'konnectors':
      return { ...state, konnectors: action.konnectors };
    case 'accounts': {
      const accounts: Record<string, Account> = {};
      for (const account of action.accounts) accounts[account.id] = newer(state.accounts[account.id], account);
      return { ...state, accounts, accountsLoaded: true };
    }
    case 'account':
      return withAccount(state, action.account);
    case 'account-removed': {
      const { [action.accountId]: _removed, ...accounts } = state.accounts;
      const { [action.accountId]: _jobs, ...jobsByAccount } = state.jobsByAccount;
      const { [action.accountId]: _files, ...filesByAccount } = state.filesByAccount;
      return { ...state, accounts, jobsByAccount, filesByAccount };
    }
    case 'jobs': {
      // A job that moved on through events while the list was on its way keeps its newer version.
      let jobs: Job[] = [];
      for (const job of action.jobs) jobs = upsertJob(jobs, job);
      for (const known of state.jobsByAccount[action.accountId] ?? []) {
        const listed = jobs.find((j) => j.id === known.id);
        if (!listed || progressRank(known) > progressRank(listed)) jobs = upsertJob(jobs, known);
      }
      return { ...state, jobsByAccount: { ...state.jobsByAccount, [action.accountId]: jobs } };
    }
    case 'logs':
      return {
        ...state,
        logsByJob: { ...state.logsByJob, [action.jobId]: mergeLines(state.logsByJob[action.jobId], action.lines) },
      };
    case 'files': {
      const live = (state.filesByAccount[action.accountId] ?? []).filter(
        (f) => !action.files.some((g) => g.id === f.id),
      );
      return { ...state, filesByAccount: { ...state.filesByAccount, [action.accountId]: [...live, ...action.files] } };
    }
    case 'event':
      return applyEvent(state, action.event);
    case 'stream':
      return { ...state, stream: action.status };
    case 'answered': {
      const { [action.accountId]: _old, ...answered } = state.answered;
      return {
        ...state,
        answered: action.prompt
          ? { ...answered, [action.accountId]: { promptId: action.prompt.id, jobId: action.prompt.jobId } }
          : answered,
      };
    }
    case 'dismiss':
      return state.dismissed.includes(action.promptId)
        ? state
        : { ...state, dismissed: [...state.dismissed, action.promptId] };
    case 'undismiss':
      return { ...state, dismissed: state.dismissed.filter((id) => id !== action.promptId) };
  }
}

/** Accounts in display order: those needing the person first, then by label. */
export function accountList(accounts: Record<string, Account>): Account[] {
  return Object.values(accounts).sort((a, b) => {
    if (a.needsAction !== b.needsAction) return a.needsAction ? -1 : 1;
    return a.label.localeCompare(b.label) || a.createdAt.localeCompare(b.createdAt);
  });
}
