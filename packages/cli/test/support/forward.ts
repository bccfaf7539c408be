import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP forwarder: what a namespaced node reaches on its host side, passed on to a server of 127.0.0.1. */
export type Forward = {
  /** The port it listens on, the same on every address. */
  port: number;
  /** The client address of each connection so far, in order (the node's own 10.231.X.2). */
  from(): string[];
  close(): Promise<void>;
};

/**
 * Listens on each address (the first's free port for all) and pipes every connection to
 * 127.0.0.1:`port`: a server the test starts on loopback only (the fake sites, dovecot) is then
 * reached from every namespace as on another machine, and the forwarder notes who connected.
 */
export async function forwardToLocal(port: number, addresses: string[]): Promise<Forward> {
  const seen: string[] = [];
  const servers: Server[] = [];
  const open = new Set<Socket>();
  let listening = 0;
  for (const address of addresses) {
    const server = createServer((client) => {
      seen.push(client.remoteAddress ?? '?');
      const upstream = connect(port, '127.0.0.1');
      open.add(client).add(upstream);
      // Either end closing or failing ends both: a torn connection must not keep the other open.
      const end = () => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listening, address, resolve);
    });
    listening = (server.address() as { port: number }).port;
  }
  return {
    port: listening,
    from: () => [...seen],
    /** Stops listening and cuts the connections still open (a keep-alive one would hold close forever). */
    close: async () => {
      const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const socket of open) socket.destroy();
      await Promise.all(closed);
    },
  };
}
