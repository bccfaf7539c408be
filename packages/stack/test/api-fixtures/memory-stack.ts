import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CODE_PATTERN,
  normalizeCode,
  type Account,
  type AnswerOutcome,
  type FileInfo,
  type Job,
  type JobLogLine,
  type KeptAccount,
  type KonnectorInfo,
  type KonnectorProblem,
  type Prompt,
  type StackEvent,
  type Trigger,
  type TwoFaType,
} from '@gleaner/contracts';
import { StackError } from '../../src/errors.js';
import { compareVersions, PackageError, readKonnectorPackage } from '../../src/registry/index.js';
import type { Stack } from '../../src/stack.js';

type StoredAccount = Omit<Account, 'lastJob' | 'prompt' | 'fields' | 'secretFieldsSet'> & {
  fieldValues: Record<string, string>;
};
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const KONNECTOR: KonnectorInfo = {
  slug: 'shop',
  name: 'Shop',
  version: '1.0.0',
  description: 'A test shop',
  twofa: ['sms'],
  fields: {
    login: { type: 'text', required: true, advanced: false },
    password: { type: 'password', required: true, advanced: false },
  },
  source: 'development',
};

/**
 * A Stack in memory, for the API's own tests: enough behaviour to exercise every route. A test
 * plays the konnector with `askCode()` and `finishJob()`.
 */
/** A trigger's fields this fixture does not model: Sunday, UTC, never skipped. */
const NO_SKIP = { weekday: 0, timeZone: 'UTC', lastSkippedAt: null, skipReason: null } as const;

export class MemoryStack implements Stack {
  readonly dataDir = '/nonexistent';
  readonly accountsById = new Map<string, StoredAccount>();
  readonly jobsById = new Map<string, Job>();
  readonly promptsById = new Map<string, Prompt & { deliver: (code: string) => void }>();
  readonly filesById = new Map<string, { file: FileInfo; content: Buffer }>();
  readonly keptById = new Map<string, Omit<KeptAccount, 'files'>>();
  readonly logsByJob = new Map<string, JobLogLine[]>();
  readonly triggerMap = new Map<string, Trigger>();
  readonly eventLog: StackEvent[] = [];
  readonly listeners = new Set<(event: StackEvent) => void>();
  /** Every code delivered to a "konnector", to check that each is delivered once. */
  readonly delivered: string[] = [];
  closed = false;
  now: () => Date = () => new Date();

  #emit(event: DistributiveOmit<StackEvent, 'id' | 'at'>): void {
    const full: StackEvent = { ...event, id: this.eventLog.length + 1, at: this.now().toISOString() };
    this.eventLog.push(full);
    for (const listener of this.listeners) listener(full);
  }

  #account(id: string): StoredAccount {
    const account = this.accountsById.get(id);
    if (!account) throw new StackError('not_found', `no account ${id}`);
    return account;
  }

  #view(stored: StoredAccount): Account {
    const { fieldValues, ...rest } = stored;
    const jobs = [...this.jobsById.values()].filter((job) => job.accountId === stored.id);
    const lastJob = jobs.at(-1) ?? null;
    const prompt = [...this.promptsById.values()].find((p) => p.accountId === stored.id && p.status === 'waiting');
    return {
      ...rest,
      fields: Object.fromEntries(Object.entries(fieldValues).filter(([name]) => name !== 'password')),
      secretFieldsSet: 'password' in fieldValues ? ['password'] : [],
      lastJob,
      prompt: prompt ? this.#promptView(prompt) : null,
    };
  }

  #promptView(prompt: Prompt & { deliver: (code: string) => void }): Prompt {
    const { deliver: _deliver, ...view } = prompt;
    return view;
  }

  #accountUpdated(id: string): void {
    this.#emit({ type: 'account.updated', account: this.#view(this.#account(id)) });
  }

  /** Installed packages, read with the real package reader; the built-in shop is a development one. */
  readonly installed = new Map<string, { info: KonnectorInfo; icon: { contentType: string; data: Buffer } | null }>();

  konnectors = {
    list: (): KonnectorInfo[] => [KONNECTOR, ...[...this.installed.values()].map((k) => k.info)],
    get: (slug: string): KonnectorInfo | undefined =>
      slug === KONNECTOR.slug ? KONNECTOR : this.installed.get(slug)?.info,
    problems: (): KonnectorProblem[] => [],
    install: async (tgz: Buffer, options: { force?: boolean } = {}) => {
      let pkg;
      try {
        pkg = readKonnectorPackage(tgz);
      } catch (error) {
        if (error instanceof PackageError) throw new StackError('invalid', error.message, { problems: error.problems });
        throw error;
      }
      const { manifest } = pkg;
      const previous = this.installed.get(manifest.slug)?.info.version ?? null;
      if (previous !== null && !options.force && compareVersions(manifest.version, previous) <= 0)
        throw new StackError('conflict', `${manifest.slug} ${previous} is installed: force to downgrade or reinstall`);
      const info: KonnectorInfo = {
        slug: manifest.slug,
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        twofa: manifest.twofa,
        fields: manifest.fields,
        source: 'installed',
        ...(manifest.icon ? { icon: `/api/konnectors/${manifest.slug}/icon` } : {}),
      };
      const icon = manifest.icon
        ? {
            contentType: manifest.icon.endsWith('.svg') ? 'image/svg+xml' : 'image/png',
            data: pkg.files.get(manifest.icon)!,
          }
        : null;
      this.installed.set(manifest.slug, { info, icon });
      return { konnector: info, previousVersion: previous };
    },
    uninstall: async (slug: string, options: { force?: boolean } = {}) => {
      if (!this.installed.has(slug)) throw new StackError('not_found', `konnector ${slug} is not installed`);
      const accounts = [...this.accountsById.values()].filter((a) => a.konnector === slug).length;
      if (accounts > 0 && !options.force)
        throw new StackError(
          'conflict',
          `konnector ${slug} is used by ${accounts} account(s): remove them first, or force`,
          {
            accounts,
          },
        );
      this.installed.delete(slug);
    },
    icon: async (slug: string) => {
      const icon = this.installed.get(slug)?.icon;
      if (!icon) throw new StackError('not_found', `konnector ${slug} has no icon`);
      return icon;
    },
  };

  accounts = {
    list: async (): Promise<Account[]> => [...this.accountsById.values()].map((a) => this.#view(a)),
    get: async (id: string): Promise<Account> => this.#view(this.#account(id)),
    create: async (input: { konnector: string; label?: string; fields: Record<string, string> }): Promise<Account> => {
      if (!this.konnectors.get(input.konnector)) throw new StackError('invalid', `no konnector ${input.konnector}`);
      const at = this.now().toISOString();
      const account: StoredAccount = {
        id: randomUUID(),
        konnector: input.konnector,
        label: input.label ?? input.fields.login ?? input.konnector,
        state: null,
        fieldValues: { ...input.fields },
        sessionSaved: false,
        needsAction: false,
        actionNeeded: null,
        nextRunAt: null,
        createdAt: at,
        updatedAt: at,
      };
      this.accountsById.set(account.id, account);
      this.#accountUpdated(account.id);
      return this.#view(account);
    },
    update: async (id: string, input: { label?: string; fields?: Record<string, string> }): Promise<Account> => {
      const account = this.#account(id);
      if (input.label !== undefined) account.label = input.label;
      for (const [name, value] of Object.entries(input.fields ?? {})) {
        if (name === 'password' && value === '') continue;
        account.fieldValues[name] = value;
      }
      account.updatedAt = this.now().toISOString();
      this.#accountUpdated(id);
      return this.#view(account);
    },
    remove: async (id: string, { keepFiles = true }: { keepFiles?: boolean } = {}): Promise<void> => {
      const account = this.#account(id);
      const files = [...this.filesById.values()].filter(({ file }) => file.accountId === id).map(({ file }) => file);
      if (keepFiles && files.length) {
        this.keptById.set(id, {
          accountId: id,
          konnector: account.konnector,
          label: account.label,
          deletedAt: this.now().toISOString(),
        });
      } else for (const file of files) this.filesById.delete(file.id);
      this.accountsById.delete(id);
      this.#emit({ type: 'account.deleted', accountId: id });
    },
    kept: async (): Promise<KeptAccount[]> =>
      [...this.keptById.values()].map((k) => ({
        ...k,
        files: [...this.filesById.values()]
          .filter(({ file }) => file.accountId === k.accountId)
          .map(({ file }) => file),
      })),
    forgetKept: async (accountId: string): Promise<void> => {
      if (!this.keptById.delete(accountId))
        throw new StackError('not_found', `no kept documents of account ${accountId}`);
      for (const [id, { file }] of this.filesById) if (file.accountId === accountId) this.filesById.delete(id);
    },
    resetSession: async (id: string): Promise<Account> => {
      const account = this.#account(id);
      account.sessionSaved = false;
      account.state = 'RESET_SESSION';
      this.#accountUpdated(id);
      return this.#view(account);
    },
  };

  jobs = {
    start: async (accountId: string, mode: Job['mode']): Promise<Job> => {
      const account = this.#account(accountId);
      const active = [...this.jobsById.values()].find(
        (job) => job.accountId === accountId && (job.status === 'queued' || job.status === 'running'),
      );
      if (active) throw new StackError('conflict', 'the account already has an active job', { jobId: active.id });
      const at = this.now().toISOString();
      const job: Job = {
        id: randomUUID(),
        accountId,
        konnector: account.konnector,
        konnectorVersion: this.konnectors.get(account.konnector)?.version ?? null,
        worker: 'memory',
        mode,
        status: 'running',
        loginStatus: 'pending',
        error: null,
        filesSaved: 0,
        createdAt: at,
        startedAt: at,
        endedAt: null,
      };
      this.jobsById.set(job.id, job);
      this.#emit({ type: 'job.updated', job });
      return job;
    },
    get: async (id: string): Promise<Job> => {
      const job = this.jobsById.get(id);
      if (!job) throw new StackError('not_found', `no job ${id}`);
      return job;
    },
    list: async (filter: { accountId?: string; limit?: number }): Promise<Job[]> =>
      [...this.jobsById.values()]
        .filter((job) => !filter.accountId || job.accountId === filter.accountId)
        .reverse()
        .slice(0, filter.limit ?? 50),
    logs: async (id: string): Promise<JobLogLine[]> => {
      await this.jobs.get(id);
      return this.logsByJob.get(id) ?? [];
    },
    cancel: async (id: string): Promise<Job> => {
      const job = await this.jobs.get(id);
      if (job.status === 'done' || job.status === 'errored') throw new StackError('conflict', 'the job has ended');
      return this.finishJob(id, 'JOB_CANCELLED');
    },
  };

  prompts = {
    get: async (promptId: string): Promise<Prompt> => {
      const prompt = this.promptsById.get(promptId);
      if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
      return this.#promptView(prompt);
    },
    resend: async (promptId: string): Promise<{ outcome: 'not_offered'; availableAt: null }> => {
      if (!this.promptsById.has(promptId)) throw new StackError('not_found', `no prompt ${promptId}`);
      return { outcome: 'not_offered', availableAt: null };
    },
    answer: async (promptId: string, raw: string): Promise<AnswerOutcome> => {
      const prompt = this.promptsById.get(promptId);
      if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
      if (prompt.status === 'waiting' && Date.parse(prompt.expiresAt) <= this.now().getTime()) {
        prompt.status = 'expired';
        this.#emit({ type: 'prompt.updated', prompt: this.#promptView(prompt) });
      }
      if (prompt.status === 'expired') return 'expired';
      if (prompt.status !== 'waiting') return 'not_waiting';
      if (prompt.attempts >= 5) return 'too_many_attempts';
      prompt.attempts += 1;
      const code = normalizeCode(raw);
      if (!CODE_PATTERN.test(code)) return 'bad_format';
      prompt.status = 'answered';
      prompt.deliver(code);
      this.#emit({ type: 'prompt.updated', prompt: this.#promptView(prompt) });
      return 'accepted';
    },
    cancel: async (promptId: string): Promise<void> => {
      const prompt = this.promptsById.get(promptId);
      if (!prompt) throw new StackError('not_found', `no prompt ${promptId}`);
      if (prompt.status !== 'waiting') throw new StackError('conflict', 'the prompt is not waiting');
      prompt.status = 'cancelled';
      this.#emit({ type: 'prompt.updated', prompt: this.#promptView(prompt) });
    },
  };

  /** Code sources are the real stack's (code-sources tests): here every account has none. */
  codeSources: Stack['codeSources'] = {
    list: async (accountId) => {
      this.#account(accountId);
      return [];
    },
    setAuthenticator: async () => {
      throw new StackError('invalid', 'the memory stack keeps no code sources');
    },
    setMailbox: async () => {
      throw new StackError('invalid', 'the memory stack keeps no code sources');
    },
    setSmsWebhook: async () => {
      throw new StackError('invalid', 'the memory stack keeps no code sources');
    },
    test: async (accountId, kind) => {
      throw new StackError('not_found', `account ${accountId} has no ${kind} code source`);
    },
    remove: async (accountId, kind) => {
      throw new StackError('not_found', `account ${accountId} has no ${kind} code source`);
    },
    receiveSms: async () => ({ outcome: 'unauthorized' }),
  };

  triggers = {
    get: async (accountId: string): Promise<Trigger> => {
      this.#account(accountId);
      return (
        this.triggerMap.get(accountId) ?? { ...NO_SKIP, accountId, frequency: 'off', time: '05:00', nextRunAt: null }
      );
    },
    set: async (accountId: string, input: { frequency: Trigger['frequency']; time?: string }): Promise<Trigger> => {
      this.#account(accountId);
      const trigger: Trigger = {
        ...NO_SKIP,
        accountId,
        frequency: input.frequency,
        time: input.time ?? '05:00',
        nextRunAt: null,
      };
      this.triggerMap.set(accountId, trigger);
      return trigger;
    },
  };

  files = {
    list: async (accountId: string): Promise<FileInfo[]> => {
      this.#account(accountId);
      return [...this.filesById.values()].filter(({ file }) => file.accountId === accountId).map(({ file }) => file);
    },
    open: async (fileId: string): Promise<{ file: FileInfo; stream: Readable }> => {
      const entry = this.filesById.get(fileId);
      if (!entry) throw new StackError('not_found', `no file ${fileId}`);
      return { file: entry.file, stream: Readable.from([entry.content]) };
    },
  };

  events = {
    subscribe: (afterId: number | null, listener: (event: StackEvent) => void): (() => void) => {
      if (afterId !== null) for (const event of this.eventLog.filter((e) => e.id > afterId)) listener(event);
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    },
  };

  async close(): Promise<void> {
    this.closed = true;
  }

  // ——— test controls: play the konnector ———

  /** The running job of this account asks for a code; `received` resolves with the code delivered. */
  askCode(
    accountId: string,
    options: { type?: TwoFaType; expiresInMs?: number } = {},
  ): { prompt: Prompt; received: Promise<string> } {
    const job = [...this.jobsById.values()].find((j) => j.accountId === accountId && j.status === 'running');
    if (!job) throw new Error('no running job');
    const account = this.#account(accountId);
    account.state = `TWOFA_NEEDED.${(options.type ?? 'sms').toUpperCase()}` as Account['state'];
    let deliver!: (code: string) => void;
    const received = new Promise<string>((resolve) => (deliver = resolve));
    const now = this.now();
    const prompt = {
      id: randomUUID(),
      jobId: job.id,
      accountId,
      type: options.type ?? 'sms',
      retry: false,
      status: 'waiting' as const,
      attempts: 0,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (options.expiresInMs ?? 60_000)).toISOString(),
      destination: null,
      attemptsLeft: null,
      methods: [],
      method: null,
      trustDevice: null,
      resend: null,
      deliver: (code: string) => {
        this.delivered.push(code);
        deliver(code);
      },
    };
    this.promptsById.set(prompt.id, prompt);
    this.#emit({ type: 'prompt.updated', prompt: this.#promptView(prompt) });
    this.#accountUpdated(accountId);
    return { prompt: this.#promptView(prompt), received };
  }

  setState(accountId: string, state: Account['state']): void {
    this.#account(accountId).state = state;
    this.#accountUpdated(accountId);
  }

  log(jobId: string, message: string): void {
    const lines = this.logsByJob.get(jobId) ?? [];
    const line: JobLogLine = { jobId, seq: lines.length, level: 'info', message, at: this.now().toISOString() };
    lines.push(line);
    this.logsByJob.set(jobId, lines);
    this.#emit({ type: 'job.log', line });
  }

  saveFile(jobId: string, name: string, content: string): FileInfo {
    const job = this.jobsById.get(jobId);
    if (!job) throw new Error('no job');
    const file: FileInfo = {
      id: randomUUID(),
      accountId: job.accountId,
      jobId,
      name,
      folder: '',
      size: Buffer.byteLength(content),
      sha256: 'x',
      bill: { amount: 12.5, currency: 'EUR', date: '2025-01-31', vendor: 'Shop' },
      savedAt: this.now().toISOString(),
    };
    this.filesById.set(file.id, { file, content: Buffer.from(content) });
    job.filesSaved += 1;
    this.#emit({ type: 'file.saved', file });
    return file;
  }

  finishJob(jobId: string, error: Job['error'] = null): Job {
    const job = this.jobsById.get(jobId);
    if (!job) throw new Error('no job');
    job.status = error ? 'errored' : 'done';
    job.error = error;
    job.endedAt = this.now().toISOString();
    if (!error) job.loginStatus = 'succeeded';
    this.#emit({ type: 'job.updated', job });
    return job;
  }
}
