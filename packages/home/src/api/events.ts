import type { StackEvent } from '@gleaner/contracts';
import type { HomeAction } from '../state/reducer.js';

export const EVENT_TYPES: StackEvent['type'][] = [
  'account.updated',
  'account.deleted',
  'job.updated',
  'prompt.updated',
  'job.log',
  'file.saved',
];

/**
 * Feeds the store from `GET /api/events`. EventSource reconnects by itself and sends Last-Event-ID,
 * so missed events are replayed; `onOpen` lets the caller refresh lists after a long break.
 */
export function connectEvents(
  dispatch: (action: HomeAction) => void,
  hooks: { onOpen(): void; onClosed(): void },
  url = '/api/events',
): () => void {
  let source: EventSource;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const open = () => {
    source = new EventSource(url, { withCredentials: true });
    source.onopen = () => {
      dispatch({ type: 'stream', status: 'open' });
      hooks.onOpen();
    };
    source.onerror = () => {
      dispatch({ type: 'stream', status: 'retrying' });
      // A refused stream (a 401, a server down for long) is closed for good: check the session, reopen later.
      if (source.readyState === EventSource.CLOSED && !stopped) {
        hooks.onClosed();
        timer = setTimeout(open, 3000);
      }
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, handle as EventListener);
    source.onmessage = handle;
  };
  dispatch({ type: 'stream', status: 'connecting' });
  const handle = (message: MessageEvent<string>) => {
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!data || typeof data !== 'object') return;
    // The stack sends the whole StackEvent as data; a bare payload is completed with the SSE type.
    const event = ('type' in data ? data : { ...data, type: message.type }) as StackEvent;
    if (!EVENT_TYPES.includes(event.type)) return;
    dispatch({ type: 'event', event });
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source.close();
  };
}
