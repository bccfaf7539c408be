import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '../src/storage/index.js';
import { storageContract } from './storage-contract.js';

storageContract('sqlite', () => openSqliteStorage(join(mkdtempSync(join(tmpdir(), 'gleaner-storage-')), 'gleaner.db')));
