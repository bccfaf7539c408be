import type { CheerioAPI } from 'cheerio';

/**
 * Which parser builds the `$` of an HTML answer.
 * - `htmlparser2` (default): cheerio's `cheerio/slim` entry, two to four times faster than parse5 and
 *   lighter to load. It builds the tree as written: no `<tbody>` is added to a table that has none,
 *   and a page without `<html>`/`<head>`/`<body>` gets none.
 * - `parse5`: cheerio's default, the HTML standard's tree as a browser builds it (implied `<tbody>`,
 *   `<html>`, `<body>`…). Choose it when selectors copied from the browser's devtools do not match.
 */
export type HtmlParser = 'htmlparser2' | 'parse5';

type Load = (html: string) => CheerioAPI;

const loaders: Partial<Record<HtmlParser, Load>> = {};
const loading: Partial<Record<HtmlParser, Promise<Load>>> = {};

/** cheerio costs more to import than the rest of the SDK: each entry is loaded on its first use only. */
function loader(parser: HtmlParser): Promise<Load> {
  return (loading[parser] ??= (parser === 'parse5' ? import('cheerio') : import('cheerio/slim')).then(({ load }) => {
    const bound: Load = (html) => load(html);
    loaders[parser] = bound;
    return bound;
  }));
}

/**
 * Starts loading the parser while a request that will need it is in flight, so that the import
 * (~80 ms of CPU) runs while the konnector waits for the site rather than after. A failure is left
 * for `parseHtml` to report.
 */
export function preloadHtml(parser: HtmlParser = 'htmlparser2'): void {
  if (!loaders[parser]) loader(parser).catch(() => undefined);
}

/** Parses an HTML page into a cheerio `$`. */
export async function parseHtml(html: string, parser: HtmlParser = 'htmlparser2'): Promise<CheerioAPI> {
  const load = loaders[parser] ?? (await loader(parser));
  return load(html);
}
