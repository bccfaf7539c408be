import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from '../command.js';
import { UsageError } from '../usage-error.js';

const templateDir = fileURLToPath(new URL('../../../templates/konnector/', import.meta.url));

/** `my site` → `my-site`; the slug names the konnector's folder and manifest. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

function templateFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) templateFiles(path, out);
    else out.push(path);
  }
  return out;
}

export const newCommand = defineCommand({
  name: 'new',
  summary: 'scaffold a konnector with a test against a local 2FA test site',
  usage: 'gleaner new <name> [--dir DIR]',
  description: [
    'Scaffolds a konnector: manifest, source (a CookieKonnector with 2FA and a kept session) and a test',
    "that runs it against Gleaner's local 2FA test site. Inside a Gleaner checkout, put it under",
    'konnectors/ so that npm links the SDK.',
  ].join('\n'),
  args: [{ name: 'name', description: "the konnector's name (its slug names the folder)", variadic: true }],
  options: {
    dir: { type: 'path', value: 'DIR', description: 'where to create it (default ./<slug>)' },
  },
  async run({ options, args }) {
    const name = args.join(' ').trim();
    if (!name) throw new UsageError('expected a name');
    const slug = slugify(name);
    if (!slug) throw new UsageError(`"${name}" has no letters or digits to make a slug from`);
    const target = options.dir ?? resolve(slug);
    if (existsSync(target) && readdirSync(target).length > 0) {
      throw new UsageError(`${target} exists and is not empty: choose another --dir`);
    }
    for (const file of templateFiles(templateDir)) {
      const rel = relative(templateDir, file).replace(/^gitignore$/, '.gitignore');
      const content = readFileSync(file, 'utf8').replaceAll('__SLUG__', slug).replaceAll('__NAME__', name);
      mkdirSync(join(target, rel, '..'), { recursive: true });
      writeFileSync(join(target, rel), content);
    }
    process.stderr.write(
      `created ${target}\n\nnext:\n  cd ${relative(process.cwd(), target) || '.'}\n  npm install\n  npm test      # runs it against the local 2FA test site\n  gleaner pack  # writes the package a stack installs\n`,
    );
    return 0;
  },
});
