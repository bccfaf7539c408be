import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The name every namespace's /etc/hosts gives its host side: the fake site's URL is the same for all. */
export const HOST_NAME = 'gleaner-host';
/** The networks the slots take their /30 from (10.231.X.0/30: X from 1 to 254). */
export const CLUSTER_NETWORK = '10.231.0.0/16';
export const IPROUTE2_INSTALL_LINE = 'sudo apt-get install -y iproute2';

/** One process's machine: a network namespace joined to the root one by a veth pair over a /30. */
export type NetworkSlot = {
  /** The namespace, `gl-<owner pid>-<X>` (the pid tells a crashed run's leftovers from a live run's). */
  name: string;
  /** 10.231.X.1, the root namespace's end: where the process finds PostgreSQL and the fake site. */
  hostAddress: string;
  /** 10.231.X.2, the process's own address (`eth0` inside). */
  address: string;
};

export type NetworkPool = {
  /** Every slot's host-side address: what PostgreSQL and the fake site listen on. */
  hostAddresses: string[];
  /** The next unused slot; throws when every one is taken. */
  take(): NetworkSlot;
  /** The `ip` binary, for `ip netns exec`. */
  ip: string;
};

/** The `ip` of iproute2, from PATH or the sbin folders (root's PATH may lack them). */
function findIp(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    const path = join(dir, 'ip');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue;
    }
  }
  return null;
}

/** Throws naming what is missing when network namespaces cannot be made here (root, iproute2). */
export function requireNetns(): string {
  if (process.getuid?.() !== 0)
    throw new Error(
      `missing: root. The cluster test puts every node and worker in a network namespace of its own (ip netns, veth pairs), which only root may make: run it as root (uid ${process.getuid?.()} now).`,
    );
  const ip = findIp();
  if (!ip)
    throw new Error(`missing: iproute2 (the ip command, not in PATH, /usr/sbin or /sbin). Install it: ${IPROUTE2_INSTALL_LINE}`);
  return ip;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const OURS = /^gl-(\d+)-(\d+)$/;

/** Removes the namespaces (their veth pairs go with them) and /etc/netns folders of runs whose process is gone. */
function removeStale(ip: string): void {
  const listed = spawnSync(ip, ['netns', 'list'], { encoding: 'utf8' });
  const names = new Set(listed.stdout.split('\n').map((line) => line.split(' ')[0]!).filter((name) => OURS.test(name)));
  if (existsSync('/etc/netns')) for (const name of readdirSync('/etc/netns')) if (OURS.test(name)) names.add(name);
  for (const name of names) {
    if (alive(Number(OURS.exec(name)![1]))) continue;
    spawnSync(ip, ['netns', 'delete', name], { stdio: 'ignore' });
    rmSync(join('/etc/netns', name), { recursive: true, force: true });
  }
}

/** Runs `ip …`; a failure throws with ip's own words. */
async function ipRun(ip: string, args: string[]): Promise<void> {
  try {
    await exec(ip, args);
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || String(error)}`, { cause: error });
  }
}

/**
 * Makes `size` namespaces for this test file, each with a veth pair over its own 10.231.X.0/30 and an
 * /etc/hosts naming its host side HOST_NAME; removed after the file's last test (and at exit when the
 * file crashes), a crashed earlier run's at the start. Call it at the top of the file: PostgreSQL
 * must listen on the host-side addresses, so they exist before it starts.
 */
export async function networkForFile(size: number): Promise<NetworkPool> {
  const ip = requireNetns();
  removeStale(ip);
  const made: string[] = [];
  const removeAll = () => {
    for (const name of made.splice(0)) {
      spawnSync(ip, ['netns', 'delete', name], { stdio: 'ignore' });
      rmSync(join('/etc/netns', name), { recursive: true, force: true });
    }
  };
  process.once('exit', removeAll);
  after(() => {
    process.removeListener('exit', removeAll);
    removeAll();
  });
  const slots: NetworkSlot[] = [];
  // X is claimed by the host-side link's name, `gl-X`: unique in the root namespace, so two runs at
  // once never take the same /30. A random start keeps them from racing through the same names.
  const start = 1 + Math.floor(Math.random() * 254);
  for (let step = 0; step < 254 && slots.length < size; step++) {
    const x = ((start + step) % 254) + 1;
    const name = `gl-${process.pid}-${x}`;
    const link = `gl-${x}`;
    await ipRun(ip, ['netns', 'add', name]);
    made.push(name);
    try {
      await exec(ip, ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
    } catch {
      // Taken (another run's, or a stale link of a namespace still alive): the next X.
      made.pop();
      spawnSync(ip, ['netns', 'delete', name], { stdio: 'ignore' });
      continue;
    }
    const slot = { name, hostAddress: `10.231.${x}.1`, address: `10.231.${x}.2` };
    await ipRun(ip, ['addr', 'add', `${slot.hostAddress}/30`, 'dev', link]);
    await ipRun(ip, ['link', 'set', link, 'up']);
    // No default route inside: the process reaches its host side and nothing else.
    await ipRun(ip, ['-n', name, 'addr', 'add', `${slot.address}/30`, 'dev', 'eth0']);
    await ipRun(ip, ['-n', name, 'link', 'set', 'eth0', 'up']);
    await ipRun(ip, ['-n', name, 'link', 'set', 'lo', 'up']);
    // `ip netns exec` binds /etc/netns/<name>/hosts over /etc/hosts (the sandbox binds that one in turn).
    mkdirSync(join('/etc/netns', name), { recursive: true });
    writeFileSync(join('/etc/netns', name, 'hosts'), `127.0.0.1 localhost\n${slot.hostAddress} ${HOST_NAME}\n`);
    slots.push(slot);
  }
  if (slots.length < size) throw new Error(`only ${slots.length} of ${size} free /30 networks in ${CLUSTER_NETWORK}`);
  let next = 0;
  return {
    ip,
    hostAddresses: slots.map((slot) => slot.hostAddress),
    take() {
      const slot = slots[next++];
      if (!slot) throw new Error(`the cluster test's ${size} network namespaces are all taken: make more in networkForFile`);
      return slot;
    },
  };
}

/** True when process `pid` lives in namespace `name` (its /proc/<pid>/ns/net is the one ip netns keeps). */
export function inNamespace(pid: number, name: string): boolean {
  return statSync(`/proc/${pid}/ns/net`).ino === statSync(join('/run/netns', name)).ino;
}
