import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconnectRequested, sessionHealthView } from '../../src/logic/session-health.js';
import { parseRoute, paths } from '../../src/logic/routes.js';

const NOW = Date.parse('2030-03-10T09:00:00.000Z');
const DAY = 86_400_000;
const health = (sessionExpiresAt: string | null, deviceExpiresAt: string | null = null) => ({
  sessionHealth: { sessionExpiresAt, deviceExpiresAt },
});

describe('session health in Home (fake clock)', () => {
  it('a session whose cookies expire in 2 days: its date, and the warning', () => {
    const view = sessionHealthView(health(new Date(NOW + 2 * DAY).toISOString()), NOW, 'en-GB');
    assert.equal(view.text, 'No code needed until 12 March');
    assert.equal(
      view.warning,
      'This website will ask for a code again after 12 March. Reconnect now to avoid a code at 3 a.m.',
    );
  });

  it('ten days away: the date, no warning; the later of session and remembered device counts', () => {
    assert.deepEqual(sessionHealthView(health(new Date(NOW + 10 * DAY).toISOString()), NOW, 'en-GB'), {
      text: 'No code needed until 20 March',
      warning: null,
    });
    const device = sessionHealthView(
      health(new Date(NOW + DAY).toISOString(), new Date(NOW + 30 * DAY).toISOString()),
      NOW,
      'en-GB',
    );
    assert.equal(device.text, 'No code needed until 9 April');
    assert.equal(device.warning, null);
  });

  it('nothing known says nothing; a lapsed one says a code comes next', () => {
    assert.deepEqual(sessionHealthView({ sessionHealth: null }, NOW), { text: null, warning: null });
    assert.deepEqual(sessionHealthView({}, NOW), { text: null, warning: null });
    assert.match(sessionHealthView(health(new Date(NOW - DAY).toISOString()), NOW).text ?? '', /has ended/);
  });

  it("a notification's link asks for Reconnect ready; the notifications page has its route", () => {
    assert.equal(reconnectRequested('?action=reconnect'), true);
    assert.equal(reconnectRequested(''), false);
    assert.deepEqual(parseRoute(paths.notifications()), { page: 'notifications' });
  });
});
