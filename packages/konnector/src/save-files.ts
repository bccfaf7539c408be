// PLACEHOLDER: the signatures are the contract; the implementation is being written.
import type { FileEntry, RunContext } from '@gleaner/contracts';
import type { KonnectorHost } from './host/host.js';
import type { RequestFunction } from './request.js';

export type FileToSave = {
  /** Where to download it from (with `options.request`, so with the session's cookies). */
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
  request?: RequestFunction;
  /** E.g. check the bytes are a PDF; false counts as a failed download. */
  validateFile?: (bytes: Uint8Array, entry: FileToSave) => boolean;
};

export type SaveFilesResult = { saved: FileEntry[]; skipped: number; failed: number };

export async function saveFiles(
  _host: KonnectorHost,
  _context: RunContext,
  _entries: FileToSave[],
  _options: SaveFilesOptions = {},
): Promise<SaveFilesResult> {
  throw new Error('saveFiles: not implemented yet');
}

export async function saveBills(
  _host: KonnectorHost,
  _context: RunContext,
  _entries: BillToSave[],
  _options: SaveFilesOptions = {},
): Promise<SaveFilesResult> {
  throw new Error('saveBills: not implemented yet');
}
