import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StackEvent } from '@gleaner/contracts';
import type { Stack } from '../stack.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The open SSE streams of the API (ended on close). */
    eventStreams: EventStreams;
  }
}

/** A slow reader is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export type EventStreams = {
  /** Streams the stack's events to this request until it disconnects. */
  serve(request: FastifyRequest, reply: FastifyReply, afterId: number | null): void;
  /** Ends every open stream (server shutdown). */
  closeAll(): void;
  readonly open: number;
};

export function formatEvent(event: StackEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Server-Sent Events of StackEvents, resumable with Last-Event-ID, with a heartbeat comment. */
export function eventStreams(
  stack: Stack,
  heartbeatMs: number,
  serialize: (event: StackEvent) => StackEvent,
): EventStreams {
  const closers = new Set<() => void>();
  return {
    get open() {
      return closers.size;
    },
    serve(request, reply, afterId) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.write('retry: 2000\n\n');
      let closed = false;
      let unsubscribe: () => void = () => {};
      const close = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        closers.delete(close);
        if (!res.writableEnded) res.end();
      };
      const write = (chunk: string): void => {
        if (closed) return;
        res.write(chunk);
        if (res.writableLength > MAX_BUFFERED_BYTES) close();
      };
      const heartbeat = setInterval(() => write(`: heartbeat ${Date.now()}\n\n`), heartbeatMs);
      closers.add(close);
      request.raw.on('close', close);
      res.on('close', close);
      res.on('error', close);
      unsubscribe = stack.events.subscribe(afterId, (event) => {
        try {
          write(formatEvent(serialize(event)));
        } catch (error) {
          request.log.error({ err: error, eventType: event.type }, 'an event did not match its contract: not sent');
        }
      });
      // subscribe may have replayed events after the client went away.
      if (closed) unsubscribe();
    },
    closeAll() {
      for (const close of [...closers]) close();
    },
  };
}

/** Last-Event-ID header, else ?lastEventId=; null when absent or not an integer. */
export function lastEventId(header: string | string[] | undefined, query: string | undefined): number | null {
  const raw = (Array.isArray(header) ? header[0] : header) ?? query;
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return null;
  return Number(raw.trim());
}
