import { useEffect, useId, useState, type FormEvent } from 'react';
import type { CreateNotificationChannelBody, NotificationChannel, NotificationChannelKind } from '@gleaner/contracts';
import { api, describeError } from '../api/client.js';
import { PageTitle } from '../components/layout.js';
import { useAction } from '../components/use-action.js';

const KIND_LABEL: Record<NotificationChannelKind, string> = {
  email: 'E-mail (SMTP)',
  webhook: 'Webhook (signed JSON)',
  ntfy: 'Push (ntfy)',
};
const SECRET_LABEL: Record<NotificationChannelKind, string> = {
  email: 'SMTP password',
  webhook: 'Signing secret',
  ntfy: 'Access token',
};

/** What Home shows of a channel's settings: where it sends, never its secret. */
function target(channel: NotificationChannel): string {
  const s = channel.settings;
  if (channel.kind === 'email') return `to ${String(s.to)} via ${String(s.host)}:${String(s.port)}`;
  if (channel.kind === 'webhook') return String(s.url);
  return `${String(s.url)}/${String(s.topic)}`;
}

/**
 * Where Gleaner tells the admin that an account needs them (a scheduled run that needs a person, a
 * session about to lapse, failed nights): e-mail, a signed webhook, an ntfy push; each with a test.
 */
export function NotificationsPage() {
  const [channels, setChannels] = useState<NotificationChannel[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [results, setResults] = useState<Record<string, { ok: boolean; message: string }>>({});

  const reload = async () => {
    try {
      setChannels(await api.notificationChannels());
    } catch (e) {
      setLoadError(describeError(e));
    }
  };
  useEffect(() => {
    void reload();
  }, []);

  const test = useAction(async (id: string) => {
    const result = await api.testNotificationChannel(id);
    setResults((r) => ({ ...r, [id]: result }));
  });
  const toggle = useAction(async (channel: NotificationChannel) => {
    await api.updateNotificationChannel(channel.id, { enabled: !channel.enabled });
    await reload();
  });
  const remove = useAction(async (id: string) => {
    await api.deleteNotificationChannel(id);
    await reload();
  });

  return (
    <div className="page">
      <PageTitle>Notifications</PageTitle>
      <p className="muted">
        Gleaner tells you here when an account needs you: a scheduled run that needs you to sign in, a code nobody
        typed, several failed nights, or a saved session about to end. Once per account and cause, until it is fixed.
      </p>
      <section className="section" aria-labelledby="channels-title">
        <h2 id="channels-title">Channels</h2>
        {loadError && <p className="inline-error">{loadError}</p>}
        {!channels && !loadError && <p className="empty">Loading…</p>}
        {channels && channels.length === 0 && (
          <p className="empty">No channel yet: nothing reaches you outside Home.</p>
        )}
        {channels && channels.length > 0 && (
          <ul className="card list" aria-label="Notification channels">
            {channels.map((channel) => (
              <li key={channel.id} className="pad" data-testid="notification-channel">
                <p>
                  <strong>{channel.name}</strong> · {KIND_LABEL[channel.kind]} · {target(channel)}
                  {!channel.enabled && ' · off'}
                </p>
                <div className="toolbar">
                  <button
                    type="button"
                    className="button"
                    disabled={test.busy}
                    onClick={() => void test.run(channel.id)}
                  >
                    Send a test
                  </button>
                  <button type="button" className="button" onClick={() => void toggle.run(channel)}>
                    {channel.enabled ? 'Turn off' : 'Turn on'}
                  </button>
                  <button type="button" className="button danger-outline" onClick={() => void remove.run(channel.id)}>
                    Remove
                  </button>
                </div>
                {results[channel.id] && (
                  <p role="status" className={results[channel.id]!.ok ? 'hint' : 'inline-error'}>
                    {results[channel.id]!.ok ? 'Test sent.' : `Test failed: ${results[channel.id]!.message}`}
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
        {(test.error || toggle.error || remove.error) && (
          <p className="inline-error" role="alert">
            {test.error ?? toggle.error ?? remove.error}
          </p>
        )}
      </section>
      <section className="section" aria-labelledby="add-channel-title">
        <h2 id="add-channel-title">Add a channel</h2>
        <AddChannelForm onAdded={reload} />
      </section>
    </div>
  );
}

function AddChannelForm({ onAdded }: { onAdded: () => Promise<void> }) {
  const id = useId();
  const [kind, setKind] = useState<NotificationChannelKind>('email');
  const [values, setValues] = useState<Record<string, string>>({});
  const set = (name: string) => (e: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [name]: e.target.value }));
  const value = (name: string) => values[name] ?? '';

  const add = useAction(async () => {
    const name = value('name') || KIND_LABEL[kind];
    const secret = value('secret') || undefined;
    let body: CreateNotificationChannelBody;
    if (kind === 'email')
      body = {
        kind,
        name,
        settings: {
          host: value('host'),
          port: Number(value('port') || '587'),
          secure: value('port') === '465',
          ...(value('user') ? { user: value('user') } : {}),
          from: value('from'),
          to: value('to'),
        },
        ...(secret ? { secret } : {}),
      };
    else if (kind === 'webhook') body = { kind, name, settings: { url: value('url') }, secret: secret ?? '' };
    else body = { kind, name, settings: { url: value('url'), topic: value('topic') }, ...(secret ? { secret } : {}) };
    await api.createNotificationChannel(body);
    setValues({});
    await onAdded();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void add.run();
  };
  const field = (name: string, label: string, type = 'text', required = true, placeholder?: string) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        type={type}
        value={value(name)}
        onChange={set(name)}
        required={required}
        placeholder={placeholder}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
      />
    </div>
  );

  return (
    <form className="card pad" onSubmit={submit}>
      <div className="field">
        <label htmlFor={`${id}-kind`}>Kind</label>
        <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as NotificationChannelKind)}>
          {(Object.keys(KIND_LABEL) as NotificationChannelKind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_LABEL[k]}
            </option>
          ))}
        </select>
      </div>
      {field('name', 'Name', 'text', false, KIND_LABEL[kind])}
      {kind === 'email' && (
        <>
          {field('host', 'SMTP server')}
          {field('port', 'Port', 'number', false, '587')}
          {field('user', 'SMTP user', 'text', false)}
          {field('from', 'From address', 'email')}
          {field('to', 'Send to', 'email')}
        </>
      )}
      {kind === 'webhook' && field('url', 'Webhook URL', 'url')}
      {kind === 'ntfy' && (
        <>
          {field('url', 'ntfy server', 'url', true, 'https://ntfy.example.org')}
          {field('topic', 'Topic')}
        </>
      )}
      {field('secret', SECRET_LABEL[kind], 'password', kind === 'webhook')}
      <p className="hint">The {SECRET_LABEL[kind].toLowerCase()} is sealed on the server and never shown again.</p>
      <button type="submit" className="button primary" disabled={add.busy}>
        {add.busy ? 'Adding…' : 'Add the channel'}
      </button>
      {add.error && (
        <p className="inline-error" role="alert">
          {add.error}
        </p>
      )}
    </form>
  );
}
