import type { Agent } from 'undici';

type Undici = typeof import('undici');

let undiciModule: Promise<Undici> | undefined;

/** undici costs ~0.1 s to import: it is loaded on the first request, not when the SDK is imported. */
export function loadUndici(): Promise<Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}

const open = new Set<Agent>();

/** A keep-alive agent registered for `closeAllAgents()`. */
export async function createAgent(connectionsPerOrigin: number): Promise<Agent> {
  const { Agent } = await loadUndici();
  // Idle connections are dropped after 4 s unless the site says longer (Keep-Alive: timeout=…): many
  // servers close theirs at 5 s, and a connection reused just as the site closes it fails.
  const agent = new Agent({ connections: connectionsPerOrigin, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000 });
  open.add(agent);
  return agent;
}

export function isOpen(agent: Agent): boolean {
  return open.has(agent);
}

/** Closes every agent so that the process can exit; requests still running get `graceMs` to finish. */
export async function closeAllAgents(graceMs = 1_000): Promise<void> {
  const agents = [...open];
  open.clear();
  await Promise.all(
    agents.map(async (agent) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs);
      });
      const closed = agent.close().then(() => 'closed' as const, () => 'closed' as const);
      const outcome = await Promise.race([closed, late]);
      clearTimeout(timer);
      if (outcome === 'late') await agent.destroy().catch(() => undefined);
    }),
  );
}
