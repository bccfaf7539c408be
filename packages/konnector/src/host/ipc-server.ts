import type { ChildProcess } from 'node:child_process';
import {
  hostMethods,
  KonnectorMessage,
  toErrorCode,
  type ErrorCode,
  type HostMethod,
  type HostResult,
  type LogLevel,
} from '@gleaner/contracts';
import { z } from 'zod';

/** What a host serves: one handler per protocol method, with params already validated. */
export type HostHandlers = {
  [M in HostMethod]: (params: z.infer<(typeof hostMethods)[M]['params']>) => Promise<HostResult<M>>;
} & {
  onLog(entry: { level: LogLevel; message: string; at: string }): void;
};

const CHANNEL_CLOSE_WAIT_MS = 1000;

export type ChildOutcome = {
  /** What the konnector said when it finished, if it did. */
  finish: { outcome: 'ok' | 'error'; error?: ErrorCode } | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
};

/**
 * Serves a host to a konnector child process over its IPC channel. Every message from the child is
 * validated: a konnector is untrusted code and may only ask what the protocol allows.
 * `done` resolves once the child has exited and its outcome is read: its `finish`, or its channel closed.
 */
export function serveHost(
  child: ChildProcess,
  handlers: HostHandlers,
): {
  done: Promise<ChildOutcome>;
  cancel(reason: 'JOB_TIMEOUT' | 'JOB_CANCELLED' | 'JOB_INTERRUPTED'): void;
} {
  let finish: ChildOutcome['finish'] = null;
  let onFinish = (): void => undefined;
  const reply = (message: unknown) => {
    if (child.connected) child.send(message as object);
  };

  child.on('message', (raw) => {
    const parsed = KonnectorMessage.safeParse(raw);
    if (!parsed.success) {
      handlers.onLog({
        level: 'warn',
        message: 'ignored a malformed message from the konnector',
        at: new Date().toISOString(),
      });
      return;
    }
    const message = parsed.data;
    if (message.kind === 'log') return handlers.onLog(message);
    if (message.kind === 'finish') {
      finish = { outcome: message.outcome, ...(message.error ? { error: message.error } : {}) };
      return onFinish();
    }
    const { id, method } = message;
    const params = hostMethods[method].params.safeParse(message.params);
    if (!params.success) {
      reply({ kind: 'response', id, ok: false, error: { code: 'UNKNOWN_ERROR', message: `bad params for ${method}` } });
      return;
    }
    const handler = handlers[method] as (p: unknown) => Promise<unknown>;
    handler(params.data).then(
      (result) => reply({ kind: 'response', id, ok: true, result }),
      (error: unknown) =>
        reply({ kind: 'response', id, ok: false, error: { code: toErrorCode(error), message: toErrorCode(error) } }),
    );
  });

  // 'exit' can come before the last messages are read (its `finish` among them), more so through a
  // sandbox's extra processes or on a busy stack. After the exit, the outcome is settled by `finish`
  // (the last message a konnector sends) or by the channel closing (every message read); a channel
  // still open after CHANNEL_CLOSE_WAIT_MS (a grandchild may hold it) is read once more, then left.
  let exit: { exitCode: number | null; signal: NodeJS.Signals | null } | null = null;
  let settle: (() => void) | null = null;
  const done = new Promise<ChildOutcome>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    settle = () => {
      if (!exit) return;
      clearTimeout(timer);
      settle = null;
      resolve({ finish, exitCode: exit.exitCode, signal: exit.signal });
    };
    child.once('exit', (exitCode, signal) => {
      exit = { exitCode, signal };
      if (finish || !child.connected) return settle?.();
      // A timer fires before the poll phase that reads the socket: the immediate comes after it.
      timer = setTimeout(() => setImmediate(() => settle?.()), CHANNEL_CLOSE_WAIT_MS);
    });
  });
  child.once('disconnect', () => settle?.());
  onFinish = () => settle?.();

  return {
    done,
    cancel(reason) {
      reply({ kind: 'cancel', reason });
    },
  };
}
