import type { HostHandlers } from './ipc-server.js';
import type { KonnectorHost } from './host.js';

/** Adapts an in-process host (the standalone one) so that `serveHost` can serve it to a child. */
export function handlersFor(host: KonnectorHost): HostHandlers {
  return {
    start: () => host.start(),
    updateAccountAttributes: async ({ attrs }) => {
      await host.updateAccountAttributes(attrs);
      return {};
    },
    getAccountData: async () => ({ data: await host.getAccountData() }),
    saveAccountData: async ({ data, merge }) => ({ data: await host.saveAccountData(data, merge) }),
    loadSession: async () => ({ session: await host.loadSession() }),
    saveSession: async ({ session }) => {
      await host.saveSession(session);
      return {};
    },
    waitForTwoFaCode: async ({ type, timeoutMs, retry, ...details }) =>
      host.waitForTwoFaCode({ ...(type ? { type } : {}), timeoutMs, retry, details }),
    twoFaResent: async (report) => host.twoFaResent(report, { waitMs: report.timeoutMs ?? 60_000 }),
    sessionHealth: async (health) => {
      await host.reportSessionHealth?.(health);
      return {};
    },
    twoFaApproved: async () => {
      await host.twoFaApproved();
      return {};
    },
    listFiles: async () => ({ files: await host.listFiles() }),
    saveFile: (request) => host.saveFile(request),
    onLog: (entry) => host.log(entry),
  };
}
