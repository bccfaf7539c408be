import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KonnectorInfo } from '@gleaner/contracts';
import {
  credentialsChanged,
  defaultLabel,
  sameLoginAccount,
  fieldsToSend,
  initialValues,
  manifestForm,
  validateFields,
} from '../../src/logic/manifest-form.js';

const konnector: Pick<KonnectorInfo, 'fields'> = {
  fields: {
    login: { type: 'email', label: 'E-mail', required: true, advanced: false },
    password: { type: 'password', required: true, advanced: false },
    baseUrl: {
      type: 'url',
      label: 'Website address',
      required: true,
      advanced: true,
      default: 'http://127.0.0.1:1/amazon',
    },
    nickname: { type: 'text', required: false, advanced: false },
  },
};

test('the form follows the manifest: passwords hidden, advanced fields folded', () => {
  const form = manifestForm(konnector);
  assert.deepEqual(
    form.basic.map((f) => f.name),
    ['login', 'password', 'nickname'],
  );
  assert.deepEqual(
    form.advanced.map((f) => f.name),
    ['baseUrl'],
  );
  assert.equal(form.basic[1]?.inputType, 'password');
  assert.equal(form.basic[1]?.label, 'Password');
  assert.equal(form.basic[1]?.autoComplete, 'current-password');
});

test('defaults and saved values pre-fill the form, never a password', () => {
  assert.deepEqual(initialValues(konnector), {
    login: '',
    password: '',
    baseUrl: 'http://127.0.0.1:1/amazon',
    nickname: '',
  });
  assert.equal(initialValues(konnector, { login: 'me@x.org', password: 'leak' }).password, '');
  assert.equal(initialValues(konnector, { login: 'me@x.org' }).login, 'me@x.org');
});

test('required fields are checked before sending', () => {
  const problems = validateFields(konnector, initialValues(konnector));
  assert.deepEqual(Object.keys(problems).sort(), ['login', 'password']);
  assert.equal(problems.login, 'E-mail is required.');
  assert.match(validateFields(konnector, { login: 'nope', password: 'x', baseUrl: 'ftp://x' }).login ?? '', /e-mail/);
  assert.deepEqual(validateFields(konnector, { login: 'me@x.org', password: 'pw', baseUrl: 'http://h/' }), {});
});

test('when editing, a saved password may stay empty and is not sent', () => {
  const values = { login: 'me@x.org', password: '', baseUrl: 'http://h/', nickname: '' };
  assert.deepEqual(validateFields(konnector, values, ['password']), {});
  assert.deepEqual(fieldsToSend(values, konnector, true), { login: 'me@x.org', baseUrl: 'http://h/', nickname: '' });
  assert.deepEqual(fieldsToSend({ ...values, password: ' p w ' }, konnector, false), {
    login: 'me@x.org',
    password: ' p w ',
    baseUrl: 'http://h/',
  });
});

test('an unnamed account is named after its login', () => {
  assert.equal(defaultLabel(konnector, { login: ' me@x.org ', password: 'pw' }), 'me@x.org');
  assert.equal(defaultLabel(konnector, { password: 'pw' }), '');
});

test('an edit signs in again only when the credentials change, never for a new name alone', () => {
  const saved = { login: 'ada@example.org', baseUrl: 'https://shop.example' };
  const sent = (values: Record<string, string>) => fieldsToSend({ ...saved, password: '', ...values }, konnector, true);
  assert.equal(credentialsChanged(konnector, saved, sent({})), false, 'nothing changed (the secret left empty)');
  assert.equal(credentialsChanged(konnector, saved, sent({ login: 'bob@example.org' })), true);
  assert.equal(credentialsChanged(konnector, saved, sent({ password: 'new secret' })), true);
  assert.equal(credentialsChanged(konnector, saved, sent({ baseUrl: 'https://other.example' })), true);
  assert.equal(credentialsChanged(konnector, saved, sent({ login: '  ada@example.org ' })), false, 'trimmed');
});

test('the same login on the same site again is found (whatever the case), another site or login is not', () => {
  const shop = { ...konnector, slug: 'shop' };
  const existing = {
    id: 'a1',
    konnector: 'shop',
    fields: { login: 'ada@example.org', baseUrl: 'https://shop.example' },
  };
  const accounts = [existing, { id: 'a2', konnector: 'other', fields: { login: 'bob@example.org' } }];
  const sent = (fields: Record<string, string>) => ({ baseUrl: 'https://shop.example', password: 'x', ...fields });
  assert.equal(sameLoginAccount(shop, accounts, sent({ login: 'Ada@Example.org ' })), existing);
  assert.equal(sameLoginAccount(shop, accounts, sent({ login: 'bob@example.org' })), undefined);
  assert.equal(
    sameLoginAccount(shop, accounts, sent({ login: 'ada@example.org', baseUrl: 'https://other.example' })),
    undefined,
    'another site',
  );
});
