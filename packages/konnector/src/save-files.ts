import { randomUUID } from 'node:crypto';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BillMetadata, FileEntry, RunContext } from '@gleaner/contracts';
import { isErrorCode, toErrorCode } from '@gleaner/contracts/codes';
import { log } from './core/log.js';
import { KonnectorError } from './errors.js';
import { FileTooLargeError, HttpError, NetworkError } from './http/errors.js';
import type { KonnectorHost } from './host/host.js';
import { KeyedLimiter } from './http/limiter.js';
import { safeUrl } from './http/redact.js';
import { requestFactory, requestStream, type RequestFunction } from './request.js';

export type FileToSave = {
  /** Where to download it from, with `options.request` (see there for the default). */
  fileurl?: string;
  /** Or: a function that produces the bytes. */
  fetchFile?: () => Promise<Uint8Array | NodeJS.ReadableStream>;
  filename: string;
  /** Identifying attributes (e.g. vendorRef) for deduplication. */
  vendorRef?: string;
  /** Extra identifying attributes. */
  attributes?: Record<string, string>;
};

export type BillToSave = FileToSave & {
  amount: number;
  currency?: string;
  date: Date | string;
  vendor: string;
};

export type SaveFilesOptions = {
  /** Folder inside the account's files. */
  folder?: string;
  /** Attribute names that identify a file (default: the file name). */
  fileIdAttributes?: string[];
  /** Parallel downloads to one site (default 4). */
  concurrency?: number;
  /** Attempts per file after the first (default 2). */
  retries?: number;
  /** Bytes (default 50 MiB). */
  maxFileSize?: number;
  /** Per file, ms (default 60 000). */
  timeout?: number;
  /**
   * The request function downloads go through. Default: in a CookieKonnector, its `this.request`
   * (the session's cookies); otherwise a new one with an empty cookie jar.
   */
  request?: RequestFunction;
  /** E.g. check the bytes are a PDF; false counts as a failed download. */
  validateFile?: (bytes: Uint8Array, entry: FileToSave) => boolean;
  /** First wait between attempts, doubled each time (default 1 000 ms). */
  retryDelay?: number;
};

export type SaveFilesResult = { saved: FileEntry[]; skipped: number; failed: number };

const DEFAULTS = {
  concurrency: 4,
  retries: 2,
  maxFileSize: 50 * 1024 * 1024,
  timeout: 60_000,
  retryDelay: 1_000,
};
const PROGRESS_INTERVAL_MS = 5_000;

/**
 * Downloads and hands to the host each entry not saved yet (same identity in the same folder), a few
 * at a time, streaming to the run's staging folder with a size limit, a deadline and retries.
 * Some failures are logged and counted; all new files failing ends the run with FILE_DOWNLOAD_FAILED.
 *
 * @example
 * await saveFiles(host, context, [{ fileurl: 'https://example.com/b/1.pdf', filename: '2024-01.pdf', vendorRef: 'B1' }], {
 *   fileIdAttributes: ['vendorRef'], request,
 * })
 */
export async function saveFiles(
  host: KonnectorHost,
  context: RunContext,
  entries: FileToSave[],
  options: SaveFilesOptions = {},
): Promise<SaveFilesResult> {
  return save(host, context, entries.map(checkEntry), options, 'saveFiles', () => undefined);
}

/** Like saveFiles, each file being a bill: `amount`, `date` and `vendor` are required and kept as its metadata. */
export async function saveBills(
  host: KonnectorHost,
  context: RunContext,
  entries: BillToSave[],
  options: SaveFilesOptions = {},
): Promise<SaveFilesResult> {
  const bills = entries.map((entry, index) => billMetadata(checkEntry(entry, index), index));
  const byVendorRef = entries.length > 0 && entries.every((entry) => !!entry.vendorRef);
  const withDefaults = { ...options, fileIdAttributes: options.fileIdAttributes ?? (byVendorRef ? ['vendorRef'] : ['filename']) };
  return save(host, context, entries, withDefaults, 'saveBills', (index) => bills[index]);
}

function checkEntry<E extends FileToSave>(entry: E, index: number): E {
  const where = `entry ${index}`;
  if (!entry || typeof entry !== 'object') throw new TypeError(`${where} is not an object`);
  const name = entry.filename;
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError(`${where} has no filename`);
  if (/[/\\\0]/.test(name) || name === '.' || name === '..' || name.length > 255) {
    throw new TypeError(`${where}: invalid filename ${JSON.stringify(name)} (no path separators, at most 255 characters)`);
  }
  if (!entry.fileurl && typeof entry.fetchFile !== 'function') {
    throw new TypeError(`${where} (${JSON.stringify(name)}) needs a fileurl or a fetchFile function`);
  }
  return entry;
}

function billMetadata(entry: BillToSave, index: number): BillMetadata {
  const where = `saveBills: entry ${index} (${JSON.stringify(entry.filename)})`;
  if (typeof entry.amount !== 'number' || !Number.isFinite(entry.amount)) {
    throw new TypeError(`${where} needs an amount (a finite number), got ${JSON.stringify(entry.amount)}`);
  }
  if (typeof entry.vendor !== 'string' || entry.vendor.trim() === '') {
    throw new TypeError(`${where} needs a vendor (a non-empty string)`);
  }
  const date = entry.date instanceof Date ? entry.date : typeof entry.date === 'string' ? new Date(entry.date) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new TypeError(`${where} needs a date (a Date or an ISO date string), got ${JSON.stringify(entry.date)}`);
  }
  const currency = entry.currency ?? 'EUR';
  if (typeof currency !== 'string' || currency.length < 1 || currency.length > 8) {
    throw new TypeError(`${where}: invalid currency ${JSON.stringify(currency)}`);
  }
  const isoDay = typeof entry.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(entry.date);
  return {
    amount: entry.amount,
    currency,
    date: isoDay ? (entry.date as string) : date.toISOString(),
    vendor: entry.vendor,
    ...(entry.vendorRef ? { vendorRef: entry.vendorRef } : {}),
  };
}

/** The attributes kept on the saved file: vendorRef and the entry's own. */
function storedAttributes(entry: FileToSave): Record<string, string> {
  return { ...(entry.vendorRef ? { vendorRef: entry.vendorRef } : {}), ...entry.attributes };
}

function identity(names: string[], values: Record<string, string | undefined>): string | undefined {
  const parts: string[] = [];
  for (const name of names) {
    const value = values[name];
    if (value === undefined) return undefined;
    parts.push(value);
  }
  return JSON.stringify(parts);
}

type Outcome = { kind: 'saved'; file: FileEntry } | { kind: 'failed'; error: Error };

async function save<E extends FileToSave>(
  host: KonnectorHost,
  context: RunContext,
  entries: E[],
  options: SaveFilesOptions,
  label: string,
  billFor: (index: number) => BillMetadata | undefined,
): Promise<SaveFilesResult> {
  const folder = options.folder ?? '';
  const idNames = options.fileIdAttributes?.length ? options.fileIdAttributes : ['filename'];
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULTS.concurrency));

  const existing = new Set<string>();
  for (const file of await host.listFiles()) {
    if (file.folder !== folder) continue;
    const id = identity(idNames, { ...file.attributes, filename: file.name });
    if (id) existing.add(id);
  }

  const todo: Array<{ entry: E; index: number }> = [];
  const names = new Set<string>();
  let skipped = 0;
  entries.forEach((entry, index) => {
    const id = identity(idNames, { ...storedAttributes(entry), filename: entry.filename });
    if (id === undefined) {
      const missing = idNames.filter((name) => !(name in { ...storedAttributes(entry), filename: 1 }));
      throw new TypeError(`${label}: entry ${index} (${JSON.stringify(entry.filename)}) has no ${missing.join(', ')} (fileIdAttributes)`);
    }
    if (existing.has(id)) {
      skipped++;
      return;
    }
    if (names.has(entry.filename)) {
      // Another new entry already takes this name: saving both would overwrite one with the other.
      log('warn', `${label}: two entries are named ${JSON.stringify(entry.filename)}; only the first is saved`);
      skipped++;
      return;
    }
    existing.add(id);
    names.add(entry.filename);
    todo.push({ entry, index });
  });

  const total = todo.length;
  const saved: FileEntry[] = [];
  let failed = 0;
  let saveFailures = 0;
  let lastProgress = Date.now();
  if (total === 0) {
    log('info', `${label}: nothing new (${skipped} already saved)`);
    return { saved, skipped, failed };
  }
  log('info', `${label}: ${total} new file${total === 1 ? '' : 's'} to save (${skipped} skipped)`);

  const request = options.request ?? (todo.some(({ entry }) => entry.fileurl) ? requestFactory({ jar: true }) : undefined);
  // Downloads run in parallel; hand-overs to the host one at a time (a host may keep its file index as
  // one read-modify-write document, as StandaloneHost does).
  let saving: Promise<unknown> = Promise.resolve();
  const saveFile: KonnectorHost['saveFile'] = (request) => {
    const result = saving.then(() => host.saveFile(request));
    saving = result.catch(() => undefined);
    return result;
  };
  let fatal: Error | undefined;
  let next = 0;
  const slots = new KeyedLimiter(concurrency);
  const record = (outcome: Outcome) => {
    if (outcome.kind === 'saved') saved.push(outcome.file);
    else {
      failed++;
      const code = toErrorCode(outcome.error);
      if (outcome.error instanceof SaveError) saveFailures++;
      // The disk is full or the run is over: no point in trying the other files.
      if (code === 'DISK_QUOTA_EXCEEDED' || code.startsWith('JOB_')) fatal ??= outcome.error;
    }
    const done = saved.length + failed;
    if (done < total && (done % Math.max(1, Math.ceil(total / 10)) === 0 || Date.now() - lastProgress >= PROGRESS_INTERVAL_MS)) {
      lastProgress = Date.now();
      log('info', `saved ${saved.length}/${total} files (${skipped} skipped${failed ? `, ${failed} failed` : ''})`);
    }
  };
  // Each worker downloads its next file while the host takes the previous one: the site's slots stay
  // busy whatever the host costs, and at most one staged file per worker waits for the host.
  const worker = async () => {
    let handing: Promise<void> = Promise.resolve();
    while (!fatal && next < todo.length) {
      const item = todo[next++]!;
      if (host.cancelled.aborted) {
        fatal ??= cancelledError(host.cancelled);
        break;
      }
      const staged = await stageOne(host, context, item.entry, request, options, slots);
      await handing;
      if (staged.kind === 'failed') {
        record(staged);
        continue;
      }
      if (fatal) {
        await rm(staged.path, { force: true });
        break;
      }
      handing = handOver(saveFile, item.entry, staged.path, folder, billFor(item.index)).then(record);
    }
    await handing;
  };
  // Twice as many workers as download slots: whenever a download ends, another is already waiting
  // for its slot while the first one's file is closed and handed over.
  await Promise.all(Array.from({ length: Math.min(concurrency * 2, total) }, worker));
  if (fatal) throw fatal;

  log('info', `${label}: saved ${saved.length}/${total} files (${skipped} skipped, ${failed} failed)`);
  if (failed > 0 && saved.length === 0) {
    throw new KonnectorError(saveFailures === failed ? 'SAVE_FILE_FAILED' : 'FILE_DOWNLOAD_FAILED');
  }
  if (failed > 0) log('warn', `${label}: ${failed} of ${total} files could not be saved`);
  return { saved, skipped, failed };
}

/** The host refused the file (disk full, bad name): not a download problem, never retried. */
class SaveError extends Error {
  constructor(cause: unknown) {
    super(toErrorCode(cause) === 'UNKNOWN_ERROR' ? 'SAVE_FILE_FAILED' : toErrorCode(cause), { cause });
    this.name = 'SaveError';
  }
}

/** validateFile said no: the bytes are not what was expected (a login page instead of a PDF, say). */
class InvalidFileError extends KonnectorError {
  constructor() {
    super('FILE_DOWNLOAD_FAILED');
    this.name = 'InvalidFileError';
  }
}

function cancelledError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (isErrorCode(reason)) return new KonnectorError(reason);
  return reason instanceof Error ? reason : new KonnectorError('JOB_CANCELLED');
}

/** Downloads one entry into staging (with retries); the staged path, or why it failed. */
async function stageOne(
  host: KonnectorHost,
  context: RunContext,
  entry: FileToSave,
  request: RequestFunction | undefined,
  options: SaveFilesOptions,
  slots: KeyedLimiter,
): Promise<{ kind: 'staged'; path: string } | { kind: 'failed'; error: Error }> {
  const retries = Math.max(0, options.retries ?? DEFAULTS.retries);
  const retryDelay = options.retryDelay ?? DEFAULTS.retryDelay;
  let lastError: Error = new Error('not attempted');
  for (let attempt = 0; attempt <= retries; attempt++) {
    const staged = join(context.stagingDir, `.download-${randomUUID()}.part`);
    try {
      await download(entry, staged, request, host.cancelled, options, slots);
      if (options.validateFile && !options.validateFile(new Uint8Array(await readFile(staged)), entry)) {
        throw new InvalidFileError();
      }
      return { kind: 'staged', path: staged };
    } catch (error) {
      await rm(staged, { force: true });
      lastError = error instanceof Error ? error : new Error(String(error));
      if (host.cancelled.aborted) return { kind: 'failed', error: cancelledError(host.cancelled) };
      const again = attempt < retries && retryable(lastError);
      log(again ? 'debug' : 'warn', `could not save ${JSON.stringify(entry.filename)}: ${describe(lastError)}${again ? ', trying again' : ''}`);
      if (!again) break;
      const wait = retryAfter(lastError) ?? retryDelay * 2 ** attempt * (0.75 + Math.random() * 0.5);
      try {
        await sleep(wait, host.cancelled);
      } catch {
        return { kind: 'failed', error: cancelledError(host.cancelled) };
      }
    }
  }
  return { kind: 'failed', error: lastError };
}

/** Hands a staged file to the host; a refusal (disk full, bad name) is never retried. */
async function handOver(
  saveFile: KonnectorHost['saveFile'],
  entry: FileToSave,
  staged: string,
  folder: string,
  bill: BillMetadata | undefined,
): Promise<Outcome> {
  try {
    const file = await saveFile({
      stagedPath: staged,
      name: entry.filename,
      folder,
      attributes: storedAttributes(entry),
      ...(bill ? { bill } : {}),
    });
    log('debug', `saved ${JSON.stringify(entry.filename)} (${file.size} B)`);
    return { kind: 'saved', file };
  } catch (cause) {
    await rm(staged, { force: true });
    const error = new SaveError(cause);
    log('warn', `could not save ${JSON.stringify(entry.filename)}: ${describe(error)}`);
    return { kind: 'failed', error };
  }
}

/**
 * Streams one file into `staged`: one chunk at a time in memory (the next is read once the last is
 * written), within one of the run's `concurrency` download slots, which is let go of as soon as the
 * last byte has arrived, so that the next download starts while this file is written, closed and
 * handed over.
 */
async function download(
  entry: FileToSave,
  staged: string,
  request: RequestFunction | undefined,
  cancelled: AbortSignal,
  options: SaveFilesOptions,
  slots: KeyedLimiter,
): Promise<void> {
  const maxBytes = options.maxFileSize ?? DEFAULTS.maxFileSize;
  const release = await slots.acquire('', cancelled).catch(() => {
    throw cancelledError(cancelled);
  });
  // The per-file deadline starts with the slot. One controller per download, let go of when it ends:
  // AbortSignal.any on the run's long-lived signal would keep each download's signal until the end.
  const controller = new AbortController();
  const timeoutMs = options.timeout ?? DEFAULTS.timeout;
  const timer = setTimeout(() => controller.abort(new DOMException(`no file within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const onCancel = () => controller.abort(cancelled.reason);
  if (cancelled.aborted) onCancel();
  else cancelled.addEventListener('abort', onCancel, { once: true });
  const signal = controller.signal;
  let file: FileHandle | undefined;
  let unread: (() => Promise<void>) | undefined;
  try {
    let source: AsyncIterable<Uint8Array>;
    let length: number | undefined;
    if (entry.fileurl && request) {
      // requestStream enforces maxBytes itself (content-length first, then while reading), and the signal.
      const response = await requestStream(request, { url: entry.fileurl }, { signal, maxBytes });
      source = response.body;
      length = response.contentLength;
      unread = () => response.cancel();
    } else {
      const produced = await abortable(entry.fetchFile!(), signal);
      const chunks = produced instanceof Uint8Array ? [produced] : (produced as AsyncIterable<Uint8Array | string>);
      source = limit(chunks, maxBytes, signal);
    }
    // The file is created only once bytes are coming; a file that cannot be made frees the answer's slot.
    file = await open(staged, 'wx', 0o600);
    unread = undefined;
    let received = 0;
    let last: Uint8Array | undefined;
    for await (const chunk of source) {
      if (last) await file.write(last);
      last = undefined;
      received += chunk.byteLength;
      // The last byte is in (the site said how many): the end of the body is read before this chunk
      // is written, so that the connection and the slot go to the next download during the write.
      if (received === length) last = chunk;
      else await file.write(chunk);
    }
    release();
    if (last) await file.write(last);
    await file.close();
    file = undefined;
  } catch (error) {
    await unread?.();
    throw timedOutOr(error, signal, entry.fileurl ?? '');
  } finally {
    release();
    clearTimeout(timer);
    cancelled.removeEventListener('abort', onCancel);
    await file?.close().catch(() => undefined);
  }
}

/** A fetchFile's bytes, checked against maxBytes; each chunk waits at most until the download's deadline. */
async function* limit(
  source: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
  maxBytes: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let done = false;
  try {
    for (;;) {
      const next = await abortable(Promise.resolve(iterator.next()), signal);
      if (next.done) {
        done = true;
        return;
      }
      const chunk = next.value;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.byteLength;
      if (received > maxBytes) throw new FileTooLargeError(maxBytes);
      yield bytes;
    }
  } finally {
    // Stopped early (too large, timed out): the producer may let go of what it holds.
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A per-file deadline shows up as an AbortError from the stream: call it a timeout. */
function timedOutOr(error: unknown, signal: AbortSignal, url: string): unknown {
  if (error instanceof KonnectorError) return error;
  const reason: unknown = signal.reason;
  if (signal.aborted && reason instanceof Error && reason.name === 'TimeoutError') {
    return new NetworkError('GET', safeUrl(url), 'TIMEOUT', { timedOut: true, cause: error });
  }
  return error;
}

function retryable(error: Error): boolean {
  if (error instanceof FileTooLargeError || error instanceof InvalidFileError || error instanceof SaveError) return false;
  if (error instanceof HttpError) return error.statusCode >= 500 || error.statusCode === 408 || error.statusCode === 429;
  if (error instanceof TypeError) return false;
  // Network errors, timeouts, and whatever a konnector's fetchFile throws: worth another try.
  return true;
}

/** Honours a short Retry-After (seconds) on 429/503. */
function retryAfter(error: Error): number | undefined {
  if (!(error instanceof HttpError)) return undefined;
  const headers = (error.response as { headers?: Record<string, unknown> } | undefined)?.headers;
  const value = headers?.['retry-after'];
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  const ms = Number(value) * 1000;
  return ms <= 30_000 ? ms : undefined;
}

function describe(error: Error): string {
  if (error instanceof HttpError) return `${error.message} (status ${error.statusCode})`;
  if (error instanceof NetworkError) return `${error.message} (${error.reason})`;
  if (error instanceof FileTooLargeError) return `larger than ${error.limit} bytes`;
  if (error instanceof InvalidFileError) return 'validateFile refused the bytes';
  if (error instanceof SaveError) return `the host refused it: ${error.message}`;
  return error.message;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
