import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build, type BuildFailure, type Message, type Plugin } from 'esbuild';

/** What `bundleKonnector` made: the one ESM file, its size and its digest. */
export type KonnectorBundle = { code: Uint8Array; bytes: number; sha256: string };

/** A bundle that could not be made: every esbuild error, each with its file and line. */
export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly entry: string,
    readonly errors: string[],
  ) {
    super(`cannot bundle ${entry}:\n${errors.map((e) => `  ${e}`).join('\n')}`);
  }
}

// CommonJS dependencies bundled into ESM still call require() for Node's built-ins: give them one.
const BANNER = [
  "import { createRequire as __gleanerCreateRequire } from 'node:module';",
  'const require = __gleanerCreateRequire(import.meta.url);',
].join('\n');

const CREATE_REQUIRE_CALL = /\bcreateRequire\(import\.meta\.url\)\(\s*(['"])([^'"]+)\1\s*\)/g;

/**
 * `createRequire(import.meta.url)('name')` with a literal name is a static require that esbuild does
 * not see through (the SDK loads tough-cookie that way, lazily): rewritten as `require('name')`, it is
 * bundled like any other require and still evaluated only when reached.
 */
const staticCreateRequire: Plugin = {
  name: 'gleaner-static-create-require',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('createRequire(import.meta.url)(')) return undefined;
      return {
        contents: source.replace(CREATE_REQUIRE_CALL, 'require($1$2$1)'),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

function describe(message: Message): string {
  const where = message.location
    ? `${message.location.file}:${message.location.line}:${message.location.column + 1}: `
    : '';
  return `${where}${message.text}`;
}

/**
 * Bundles a konnector's entry with everything it imports, the SDK included, into one ESM file for
 * Node 20: only Node's built-ins stay outside, so the file runs with no node_modules beside it.
 */
export async function bundleKonnector(entry: string): Promise<KonnectorBundle> {
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile: 'index.mjs',
      banner: { js: BANNER },
      plugins: [staticCreateRequire],
      logLevel: 'silent',
      legalComments: 'none',
    });
  } catch (error) {
    const failure = error as BuildFailure;
    if (!Array.isArray(failure.errors)) throw error;
    throw new BundleError(entry, failure.errors.map(describe));
  }
  const output = result.outputFiles[0];
  if (!output) throw new BundleError(entry, ['esbuild wrote no output']);
  const code = output.contents;
  return { code, bytes: code.byteLength, sha256: createHash('sha256').update(code).digest('hex') };
}
