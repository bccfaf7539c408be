import type { StackEvent } from '@gleaner/contracts';
import type { HomeAction, HomeState } from '../state/reducer.js';

export const EVENT_TYPES: StackEvent['type'][] = [
  'account.updated',
  'account.deleted',
  'job.updated',
  'prompt.updated',
  'job.log',
  'file.saved',
];

type StreamStatus = HomeState['stream'];

export interface StreamHooks {
  /** The stream (re)opened: lists are reloaded, as events may have been missed meanwhile. */
  onOpen(): void;
  /** The stream was refused for good (a 401, a server down for long): the session is checked. */
  onClosed(): void;
}

/** What one tab's stream tells the others over the BroadcastChannel. */
type TabMessage =
  | { kind: 'hello' }
  | { kind: 'event'; event: StackEvent }
  | { kind: 'status'; status: StreamStatus }
  | { kind: 'open' }
  | { kind: 'closed' };

const CHANNEL = 'gleaner-events';
const LEADER_LOCK = 'gleaner-events-leader';

/**
 * Feeds the store from `GET /api/events`, without ever starving the browser of connections (HTTP/1.1
 * allows six per host): one stream for all the tabs of this origin, held by a leader tab (a Web Lock)
 * and shared over a BroadcastChannel; closed when the page is hidden into the back/forward cache or
 * frozen, reopened (resuming after the last event seen) when it shows again. Returns the stop function.
 */
export function connectEvents(
  dispatch: (action: HomeAction) => void,
  hooks: StreamHooks,
  url = '/api/events',
): () => void {
  let lastId = 0;
  const deliver = (event: StackEvent) => {
    if (event.id > lastId) lastId = event.id;
    dispatch({ type: 'event', event });
  };
  const resumeUrl = () => (lastId > 0 ? `${url}${url.includes('?') ? '&' : '?'}lastEventId=${lastId}` : url);

  let stop: (() => void) | null = null;
  const start = () => {
    if (stop) return;
    dispatch({ type: 'stream', status: 'connecting' });
    stop = canShare()
      ? sharedStream(deliver, dispatch, hooks, resumeUrl)
      : ownStream(deliver, dispatch, hooks, resumeUrl);
  };
  const pause = () => {
    stop?.();
    stop = null;
  };
  // A page kept in the back/forward cache, or frozen, holds no connection; it resumes when shown.
  const onShow = () => start();
  window.addEventListener('pagehide', pause);
  window.addEventListener('pageshow', onShow);
  document.addEventListener('freeze', pause);
  document.addEventListener('resume', onShow);
  start();
  return () => {
    window.removeEventListener('pagehide', pause);
    window.removeEventListener('pageshow', onShow);
    document.removeEventListener('freeze', pause);
    document.removeEventListener('resume', onShow);
    pause();
  };
}

function canShare(): boolean {
  return typeof BroadcastChannel !== 'undefined' && typeof navigator !== 'undefined' && !!navigator.locks;
}

/** This tab's own stream (no Web Locks or BroadcastChannel in this browser). */
function ownStream(
  deliver: (event: StackEvent) => void,
  dispatch: (action: HomeAction) => void,
  hooks: StreamHooks,
  url: () => string,
): () => void {
  return openStream(url, {
    event: deliver,
    status: (status) => dispatch({ type: 'stream', status }),
    open: () => hooks.onOpen(),
    closed: () => hooks.onClosed(),
  });
}

/**
 * One stream for every tab: the tab that holds the lock opens it and posts what it gets to the
 * others; when it goes (closed, hidden, frozen), the lock passes to a waiting tab, which opens its own
 * stream from the last event it saw.
 */
function sharedStream(
  deliver: (event: StackEvent) => void,
  dispatch: (action: HomeAction) => void,
  hooks: StreamHooks,
  url: () => string,
): () => void {
  const channel = new BroadcastChannel(CHANNEL);
  const post = (message: TabMessage) => channel.postMessage(message);
  const waiting = new AbortController();
  let leading: { status: StreamStatus; close(): void; release(): void } | null = null;
  let followingOpen = false;

  channel.onmessage = (message: MessageEvent<TabMessage>) => {
    const data = message.data;
    if (leading) {
      // A tab that just opened asks how the stream is doing.
      if (data.kind === 'hello') post({ kind: 'status', status: leading.status });
      return;
    }
    switch (data.kind) {
      case 'event':
        deliver(data.event);
        break;
      case 'status':
        dispatch({ type: 'stream', status: data.status });
        // The leader's stream was already open when this tab came: load the lists once, as an opening does.
        if (data.status === 'open' && !followingOpen) hooks.onOpen();
        followingOpen = data.status === 'open';
        break;
      case 'open':
        followingOpen = true;
        dispatch({ type: 'stream', status: 'open' });
        hooks.onOpen();
        break;
      case 'closed':
        hooks.onClosed();
        break;
      case 'hello':
        break;
    }
  };
  post({ kind: 'hello' });

  navigator.locks
    .request(
      LEADER_LOCK,
      { signal: waiting.signal },
      () =>
        new Promise<void>((release) => {
          const lead = {
            status: 'connecting' as StreamStatus,
            close: () => {},
            release,
          };
          leading = lead;
          lead.close = openStream(url, {
            event: (event) => {
              deliver(event);
              post({ kind: 'event', event });
            },
            status: (status) => {
              lead.status = status;
              dispatch({ type: 'stream', status });
              post({ kind: 'status', status });
            },
            open: () => {
              hooks.onOpen();
              post({ kind: 'open' });
            },
            closed: () => {
              hooks.onClosed();
              post({ kind: 'closed' });
            },
          });
        }),
    )
    // Stopped while still waiting for the lock: nothing to undo.
    .catch(() => undefined);

  return () => {
    waiting.abort();
    if (leading) {
      leading.close();
      leading.release();
      leading = null;
    }
    channel.close();
  };
}

/** An EventSource on `url()`, reopened 3 s after a refusal; EventSource itself resumes after short breaks. */
function openStream(
  url: () => string,
  on: {
    event(event: StackEvent): void;
    status(status: StreamStatus): void;
    open(): void;
    closed(): void;
  },
): () => void {
  let source: EventSource;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
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
    on.event(event);
  };
  const open = () => {
    source = new EventSource(url(), { withCredentials: true });
    source.onopen = () => {
      on.status('open');
      on.open();
    };
    source.onerror = () => {
      on.status('retrying');
      // A refused stream (a 401, a server down for long) is closed for good: check the session, reopen later.
      if (source.readyState === EventSource.CLOSED && !stopped) {
        on.closed();
        timer = setTimeout(open, 3000);
      }
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, handle as EventListener);
    source.onmessage = handle;
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source.close();
  };
}
