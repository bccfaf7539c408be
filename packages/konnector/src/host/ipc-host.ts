import type {
  AccountAttributes,
  FileEntry,
  HostMethod,
  HostParams,
  HostResult,
  KonnectorMessage,
  RunContext,
  TwoFaReply,
} from '@gleaner/contracts';
import { toErrorCode } from '@gleaner/contracts/codes';
import { KonnectorError } from '../errors.js';
import { parseHostMessage } from './host-message.js';
import type {
  KonnectorHost,
  LogEntry,
  SaveFileRequest,
  SessionHealthReport,
  TwoFaRequest,
  TwoFaResentReport,
} from './host.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** The konnector's side of the host protocol, over the IPC channel its parent opened. */
export class IpcHost implements KonnectorHost {
  readonly #pending = new Map<number, Pending>();
  readonly #abort = new AbortController();
  #nextId = 0;

  constructor() {
    if (!process.send) throw new Error('IpcHost needs an IPC channel: start the konnector with a host');
    process.on('message', this.#onMessage);
    process.on('disconnect', () => {
      this.#abort.abort('JOB_INTERRUPTED');
      for (const pending of this.#pending.values()) pending.reject(new KonnectorError('JOB_INTERRUPTED'));
      this.#pending.clear();
    });
  }

  get cancelled(): AbortSignal {
    return this.#abort.signal;
  }

  readonly #onMessage = (raw: unknown): void => {
    const message = parseHostMessage(raw);
    if (!message) return;
    if (message.kind === 'cancel') {
      this.#abort.abort(message.reason);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new KonnectorError(toErrorCode(message.error.code)));
  };

  #send(message: KonnectorMessage, sent?: () => void): void {
    process.send?.(message, undefined, undefined, sent);
  }

  #call<M extends HostMethod>(
    method: M,
    params: HostParams<M>,
    deadlineMs = 60_000,
    signal?: AbortSignal,
  ): Promise<HostResult<M>> {
    const id = this.#nextId++;
    return new Promise<HostResult<M>>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      // Every wait has a deadline: a host that never answers must not hang the konnector forever.
      const timer = setTimeout(() => {
        settle();
        reject(new KonnectorError('JOB_INTERRUPTED'));
      }, deadlineMs);
      timer.unref();
      // A cancelled run stops waiting at once, whatever the host does with its request.
      const onAbort = () => {
        settle();
        const reason: unknown = signal?.reason;
        reject(new KonnectorError(toErrorCode(typeof reason === 'string' ? reason : 'JOB_CANCELLED')));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value as HostResult<M>);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      this.#send({ kind: 'request', id, method, params });
    });
  }

  start(): Promise<RunContext> {
    return this.#call('start', {});
  }
  async updateAccountAttributes(attrs: AccountAttributes): Promise<void> {
    await this.#call('updateAccountAttributes', { attrs });
  }
  async getAccountData(): Promise<Record<string, unknown>> {
    return (await this.#call('getAccountData', {})).data;
  }
  async saveAccountData(data: Record<string, unknown>, merge: boolean): Promise<Record<string, unknown>> {
    return (await this.#call('saveAccountData', { data, merge })).data;
  }
  async loadSession(): Promise<string | null> {
    return (await this.#call('loadSession', {})).session;
  }
  async saveSession(session: string | null): Promise<void> {
    await this.#call('saveSession', { session });
  }
  async waitForTwoFaCode(request: TwoFaRequest): Promise<TwoFaReply> {
    const params = { type: request.type, timeoutMs: request.timeoutMs, retry: request.retry, ...request.details };
    // The host expires the prompt; our own deadline only guards against a host that went silent.
    const signal = request.signal ? AbortSignal.any([this.#abort.signal, request.signal]) : this.#abort.signal;
    return this.#call('waitForTwoFaCode', params, request.timeoutMs + 10_000, signal);
  }
  async twoFaResent(report: TwoFaResentReport, wait: { waitMs: number; signal?: AbortSignal }): Promise<TwoFaReply> {
    const signal = wait.signal ? AbortSignal.any([this.#abort.signal, wait.signal]) : this.#abort.signal;
    return this.#call('twoFaResent', report, wait.waitMs + 10_000, signal);
  }
  async twoFaApproved(): Promise<void> {
    await this.#call('twoFaApproved', {});
  }
  async reportSessionHealth(health: SessionHealthReport): Promise<void> {
    await this.#call('sessionHealth', health);
  }
  async listFiles(): Promise<FileEntry[]> {
    return (await this.#call('listFiles', {})).files;
  }
  saveFile(request: SaveFileRequest): Promise<FileEntry> {
    return this.#call('saveFile', request, 120_000);
  }
  log(entry: LogEntry): void {
    this.#send({
      kind: 'log',
      level: entry.level,
      message: entry.message.slice(0, 4000),
      at: new Date().toISOString(),
    });
  }
  async finish(outcome: { outcome: 'ok' | 'error'; error?: string }): Promise<void> {
    const error = outcome.error === undefined ? undefined : toErrorCode(outcome.error);
    // Let the message flush before the channel closes, so the process can exit on its own.
    await new Promise<void>((resolve) =>
      this.#send({ kind: 'finish', outcome: outcome.outcome, ...(error ? { error } : {}) }, resolve),
    );
    process.removeListener('message', this.#onMessage);
    process.disconnect?.();
  }
}
