import { createRequire } from 'node:module';
import type { CookieJar } from 'tough-cookie';

type ToughCookie = typeof import('tough-cookie');

let toughCookie: ToughCookie | undefined;

/**
 * tough-cookie (and its public-suffix list) costs more to load than the rest of the SDK, and a jar is
 * wanted synchronously (`request.jar`, `CookieKonnector.jar`): it is required on the first jar made,
 * not when the SDK is imported. Every jar of the SDK comes from here, so they all share one copy.
 */
function load(): ToughCookie {
  toughCookie ??= createRequire(import.meta.url)('tough-cookie') as ToughCookie;
  return toughCookie;
}

export function newCookieJar(): CookieJar {
  return new (load().CookieJar)();
}

export function deserializeCookieJar(serialized: string): Promise<CookieJar> {
  return load().CookieJar.deserialize(serialized);
}
