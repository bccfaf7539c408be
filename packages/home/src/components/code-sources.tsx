import { useEffect, useId, useState, type ChangeEvent, type FormEvent } from 'react';
import type { CodeSource } from '@gleaner/contracts';
import { api, describeError } from '../api/client.js';
import { localTimes } from '../logic/format.js';
import { useAction } from './use-action.js';

const KIND_TITLES: Record<CodeSource['kind'], string> = {
  app_code: 'Authenticator app',
  email: 'Mailbox',
  sms: 'Forwarded SMS',
};

/** What a chosen image holds: the text of its QR code, no QR code, or no image at all. */
type QrReading = { kind: 'text'; text: string } | { kind: 'no-code' } | { kind: 'not-an-image' };

/** The longest side an image is read at: jsQR takes seconds over a phone photo's millions of pixels. */
const QR_MAX_SIDE = 1600;

/** Reads the otpauth:// URI a QR code image holds, in the browser: the image never leaves it. */
async function readQr(file: File): Promise<QrReading> {
  // Loaded when a QR image is chosen: most visits never need the decoder.
  const { default: jsQR } = await import('jsqr');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return { kind: 'not-an-image' };
  }
  const scale = Math.min(1, QR_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser gives no 2D canvas to read the image with');
  // jsQR reads colours and ignores alpha: a QR code on a transparent background (as sites offer it to
  // download) would be black on black. Painted on white, it reads as it looks.
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const pixels = context.getImageData(0, 0, width, height);
  const text = jsQR(pixels.data, pixels.width, pixels.height)?.data;
  return text ? { kind: 'text', text } : { kind: 'no-code' };
}

/**
 * The account's "Codes" section: where codes come from without a person (the authenticator secret,
 * the mailbox, an SMS forwarder), in the order they are tried; set, test and remove each.
 */
export function CodeSources({ accountId }: { accountId: string }) {
  const [sources, setSources] = useState<CodeSource[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [secret, setSecret] = useState('');
  const [webhook, setWebhook] = useState<{ url: string; secret: string } | null>(null);
  const [mailbox, setMailbox] = useState({ host: '', port: '993', tls: true, user: '', password: '', folder: 'INBOX' });
  const id = useId();

  const reload = async () => setSources(await api.codeSources(accountId));
  useEffect(() => {
    reload().catch((e: unknown) => setLoadError(describeError(e)));
  }, [accountId]);

  const saveSecret = useAction(async (value: string) => {
    setNotice(null);
    const { code } = await api.setAuthenticator(accountId, value);
    setSecret('');
    setNotice(`Saved. Your authenticator app should show ${code} now.`);
    await reload();
  });
  const saveMailbox = useAction(async () => {
    setNotice(null);
    const { lastMatchAt } = await api.setMailbox(accountId, { ...mailbox, port: Number(mailbox.port) });
    setMailbox((m) => ({ ...m, password: '' }));
    setNotice(
      lastMatchAt
        ? `Connected. The last code e-mail arrived ${new Date(lastMatchAt).toLocaleString()}.`
        : 'Connected. No code e-mail from this site in the last 30 days.',
    );
    await reload();
  });
  const makeWebhook = useAction(async () => {
    setNotice(null);
    const { source, secret: made } = await api.makeSmsWebhook(accountId);
    setWebhook({ url: `${location.origin}${source.webhookPath ?? ''}`, secret: made });
    await reload();
  });
  const test = useAction(async (kind: CodeSource['kind']) => {
    setNotice(null);
    const result = await api.testCodeSource(accountId, kind);
    setNotice(`${KIND_TITLES[kind]}: ${localTimes(result.message)}${result.code ? ` (${result.code})` : ''}`);
    await reload();
  });
  const remove = useAction(async (kind: CodeSource['kind']) => {
    setNotice(null);
    await api.removeCodeSource(accountId, kind);
    if (kind === 'sms') setWebhook(null);
    setNotice(`${KIND_TITLES[kind]} removed.`);
    await reload();
  });

  const onQr = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    setNotice(null);
    let reading: QrReading;
    try {
      reading = await readQr(file);
    } catch (e) {
      saveSecret.setError(`${file.name} could not be read: ${e instanceof Error ? e.message : String(e)}.`);
      return;
    }
    if (reading.kind === 'not-an-image') {
      saveSecret.setError(`${file.name} could not be opened as an image. Choose a PNG or JPEG of the QR code.`);
      return;
    }
    if (reading.kind === 'no-code') {
      saveSecret.setError(
        `No QR code was found in ${file.name}. Choose an image where the whole code shows, or type the secret the site shows.`,
      );
      return;
    }
    await saveSecret.run(reading.text);
  };

  if (loadError) return <p className="inline-error">{loadError}</p>;
  if (!sources) return <p className="empty">Loading…</p>;
  const error = saveMailbox.error ?? makeWebhook.error ?? test.error ?? remove.error;
  return (
    <div className="card pad code-sources" data-testid="code-sources">
      <p className="hint">
        Tried in this order when the site asks for a code, before asking you. With one set up, scheduled runs can log in
        by themselves.
      </p>
      {sources.length === 0 ? (
        <p className="empty">No code source yet: codes are asked of you.</p>
      ) : (
        <ul className="code-source-list">
          {sources.map((source) => (
            <li key={source.kind} data-kind={source.kind}>
              <strong>{KIND_TITLES[source.kind]}</strong>{' '}
              {source.kind === 'email' && (
                <span>
                  {String(source.settings.user)} on {String(source.settings.host)}
                </span>
              )}
              {source.kind === 'app_code' && source.settings.issuer !== undefined && (
                <span>{String(source.settings.issuer)}</span>
              )}
              {source.kind === 'sms' && source.webhookPath && <code>{`${location.origin}${source.webhookPath}`}</code>}
              {source.lastMessageAt && (
                <span className="hint"> · last message {new Date(source.lastMessageAt).toLocaleString()}</span>
              )}
              {source.lastError && (
                <span className="inline-error" role="alert">
                  {' '}
                  {source.lastError}
                </span>
              )}{' '}
              <button
                type="button"
                className="button secondary"
                onClick={() => void test.run(source.kind)}
                disabled={test.busy}
              >
                Test
              </button>{' '}
              <button
                type="button"
                className="button secondary"
                onClick={() => void remove.run(source.kind)}
                disabled={remove.busy}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}

      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void saveSecret.run(secret);
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-totp`}>Authenticator secret (otpauth:// link or the secret the site shows)</label>
          <input
            id={`${id}-totp`}
            type="password"
            autoComplete="off"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-qr`}>…or the QR code image</label>
          <input id={`${id}-qr`} type="file" accept="image/*" onChange={(e) => void onQr(e)} />
        </div>
        <button type="submit" className="button" disabled={saveSecret.busy || secret.trim() === ''}>
          Save the authenticator secret
        </button>
        {saveSecret.error && (
          <p className="inline-error" role="alert">
            {saveSecret.error}
          </p>
        )}
      </form>

      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void saveMailbox.run();
        }}
      >
        {(['host', 'port', 'user', 'password', 'folder'] as const).map((name) => (
          <div className="field" key={name}>
            <label htmlFor={`${id}-mail-${name}`}>{name === 'password' ? 'App password' : `Mailbox ${name}`}</label>
            <input
              id={`${id}-mail-${name}`}
              type={name === 'password' ? 'password' : name === 'port' ? 'number' : 'text'}
              autoComplete="off"
              value={mailbox[name]}
              onChange={(e) => setMailbox((m) => ({ ...m, [name]: e.target.value }))}
              required
            />
          </div>
        ))}
        <div className="field">
          <label className="checkbox">
            <input
              type="checkbox"
              checked={mailbox.tls}
              onChange={(e) => setMailbox((m) => ({ ...m, tls: e.target.checked }))}
            />{' '}
            TLS
          </label>
        </div>
        <button type="submit" className="button" disabled={saveMailbox.busy}>
          {saveMailbox.busy ? 'Connecting…' : 'Connect the mailbox'}
        </button>
      </form>

      <div>
        <button type="button" className="button" onClick={() => void makeWebhook.run()} disabled={makeWebhook.busy}>
          {sources.some((s) => s.kind === 'sms') ? 'Make a new SMS webhook' : 'Make an SMS webhook'}
        </button>
        {webhook && (
          <p data-testid="sms-webhook">
            Point your SMS forwarder at <code>{webhook.url}</code> with the header{' '}
            <code>Authorization: Bearer {webhook.secret}</code>. This secret is shown only now.
          </p>
        )}
      </div>

      <p role="status" className="hint">
        {notice}
      </p>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
