import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
export const guidePath = join(repoRoot, 'docs', 'two-factor.md');

/** A guide's code blocks that name a file: ```ts file=konnector.ts */
export function guideFiles(markdown = readFileSync(guidePath, 'utf8')): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of markdown.matchAll(/```ts file=([\w.-]+)\n([\s\S]*?)```/g)) {
    files.set(match[1]!, match[2]!);
  }
  return files;
}

/**
 * Writes a guide's files (default docs/two-factor.md) into a fresh folder, type-checks and compiles
 * them with the project's TypeScript (strict), and returns the folder of the compiled JavaScript.
 */
export function compileGuide(path = guidePath): string {
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-guide-'));
  mkdirSync(join(dir, 'src'));
  for (const [name, source] of guideFiles(readFileSync(path, 'utf8'))) writeFileSync(join(dir, 'src', name), source);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        outDir: 'dist',
        rootDir: 'src',
        types: ['node'],
      },
      include: ['src'],
    }),
  );
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
    stdio: 'pipe',
  });
  return join(dir, 'dist');
}
