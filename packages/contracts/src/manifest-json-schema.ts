import { z } from 'zod';
import { Manifest } from './manifest.js';

/** The most entries a manifest's `fields` may have (the package format's limit). */
const MAX_FIELDS = 64;

/** One line per manifest property, for editors' tooltips; docs/manifest.md says more. */
const MANIFEST_DESCRIPTIONS: Record<string, string> = {
  slug: "The konnector's id: lowercase letters, digits and dashes, at most 64; names its folder and package.",
  name: 'The name people see in Home.',
  version: 'A semantic version (1.0.0); an installed konnector is upgraded to a higher one.',
  description: 'One or two sentences shown in the catalogue.',
  vendor_link: "The website's address, shown in Home.",
  main: 'The entry file, relative to the konnector folder (in a package: index.mjs).',
  twofa: 'The kinds of second factor the konnector may ask for; shown in the catalogue.',
  twofa_sources:
    "How the stack finds this site's codes without a person: in the person's mailbox (email: from, subject, pattern) and in forwarded SMS (sms: from, pattern); pattern's first group is the code.",
  icon: 'A .svg or .png file inside the konnector folder, at most 256 KiB.',
  fields: 'What Home asks for when an account is added: field name → field. At least one, at most 64.',
  time_interval: 'Scheduled runs start at a time spread over this window of hours [from, to), local time.',
  frequency: 'How often the scheduler runs each account.',
  codeBudget:
    'How many codes the site may be made to send: prompts per windowHours, backoffMinutes after an unanswered one, resendSeconds between two; keep it under the site lockout.',
  manualOnly: "The site's session never lasts the night: accounts are never scheduled, people run them by hand.",
};

const FIELD_DESCRIPTIONS: Record<string, string> = {
  type: 'The input: text, email, password (never shown again, sealed at rest), url or number.',
  label: 'The label in the form (default: the field name).',
  required: 'Whether the form refuses an empty value.',
  placeholder: 'A hint shown in the empty input.',
  default: 'Pre-filled value; never for a password.',
  advanced: "Folded away in Home's form (a base URL, say).",
};

type JsonObject = { [key: string]: unknown };

/**
 * The JSON Schema (draft 2020-12) of `manifest.konnector`, generated from the zod schema: what an
 * author may write (defaults make a property optional). Shipped as
 * `@gleaner/konnector/manifest.schema.json`; the bounds zod checks in code (`fields`' count, the
 * icon's path) are added here by hand.
 */
export function manifestJsonSchema(): JsonObject {
  const schema = z.toJSONSchema(Manifest, { io: 'input' }) as JsonObject;
  const properties = schema.properties as Record<string, JsonObject>;
  for (const [name, property] of Object.entries(properties)) property.description = MANIFEST_DESCRIPTIONS[name];
  Object.assign(properties.fields!, { minProperties: 1, maxProperties: MAX_FIELDS });
  const fieldProperties = (properties.fields!.additionalProperties as JsonObject).properties as Record<
    string,
    JsonObject
  >;
  for (const [name, property] of Object.entries(fieldProperties)) property.description = FIELD_DESCRIPTIONS[name];
  if (properties.icon) {
    // No absolute path, no backslash, no empty, `.` or `..` segment: the icon stays in the folder.
    properties.icon.pattern = '^(?!/)(?!.*\\\\)(?!(.*/)?\\.{1,2}(/|$))(?!.*//).+\\.(svg|png)$';
  }
  return {
    $schema: schema.$schema,
    title: 'Gleaner konnector manifest (manifest.konnector)',
    description: 'What the stack, Home and `gleaner run` know of a konnector. See docs/manifest.md.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
