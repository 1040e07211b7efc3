import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU time of a server process tree, read from /proc: the processes are found by the TCP port
 * they listen on (the postmaster, redis-server, FerretDB), their descendants by parent pid (for
 * PostgreSQL the backends serving our connections and the background workers), and the time
 * from each thread's `/proc/<pid>/task/<tid>/schedstat`, whose first field is the nanoseconds
 * the thread has been on a CPU (the scheduler's own count, not `stat`'s 10 ms ticks, which are
 * far too coarse for a turn that costs the server 50 to 200 us).
 *
 * `sample()` returns one reading per thread; `delta(a, b)` sums the threads present in both, so
 * a backend that starts or ends between two readings counts nothing for that interval rather
 * than a bogus whole lifetime. `refresh()` re-reads the process tree (call it between blocks,
 * not inside a timed turn).
 */
export interface CpuProbe {
  /** e.g. `postgres: postmaster 1234 and its children (12 processes)`. */
  describe(): string;
  refresh(): void;
  sample(): Map<string, number>;
}

export function cpuDelta(before: Map<string, number>, after: Map<string, number>): number {
  let ns = 0;
  for (const [k, v] of after) {
    const b = before.get(k);
    if (b !== undefined && v >= b) ns += v - b;
  }
  return ns;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Inodes of the sockets listening on `port` (IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readText(file) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1]!.endsWith(`:${hex}`) && f[3] === '0A') out.add(f[9]!);
    }
  }
  return out;
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The processes holding a socket listening on `port`. */
export function pidsListeningOn(port: number): number[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  const found: number[] = [];
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

function parentOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[1]);
}

function commOf(pid: number): string {
  return (readText(`/proc/${pid}/comm`) ?? '?').trim();
}

/**
 * A probe on the server listening on `port` on this machine, or undefined when no process here
 * listens on it (a server elsewhere, or /proc unreadable): the report then says "not measured".
 */
export function serverCpuProbe(name: string, port: number): CpuProbe | undefined {
  if (process.platform !== 'linux') return undefined;
  let holders: number[];
  try {
    holders = pidsListeningOn(port);
  } catch {
    return undefined;
  }
  if (holders.length === 0) return undefined;
  // The root of the tree: a holder whose parent does not hold the socket too.
  const root = holders.find((p) => !holders.includes(parentOf(p) ?? -1)) ?? holders[0]!;
  const rootComm = commOf(root);
  let paths: string[] = [];
  let processes = 0;
  const refresh = () => {
    const children = new Map<number, number[]>();
    for (const pid of pids()) {
      const ppid = parentOf(pid);
      if (ppid === undefined) continue;
      let list = children.get(ppid);
      if (!list) children.set(ppid, (list = []));
      list.push(pid);
    }
    const tree: number[] = [];
    const stack = [root];
    while (stack.length) {
      const p = stack.pop()!;
      tree.push(p);
      stack.push(...(children.get(p) ?? []));
    }
    processes = tree.length;
    paths = [];
    for (const p of tree) {
      try {
        for (const tid of readdirSync(`/proc/${p}/task`)) paths.push(`/proc/${p}/task/${tid}/schedstat`);
      } catch {
        // exited
      }
    }
  };
  refresh();
  if (readText(paths[0] ?? '/nonexistent') === undefined) return undefined;
  return {
    describe: () => `${name}: ${rootComm} (pid ${root}) and its descendants, ${processes} processes, ${paths.length} threads, from /proc/<pid>/task/<tid>/schedstat`,
    refresh,
    sample() {
      const m = new Map<string, number>();
      for (const p of paths) {
        const t = readText(p);
        if (t !== undefined) m.set(p, Number(t.slice(0, t.indexOf(' '))));
      }
      return m;
    },
  };
}

/** Node's own CPU (user + system, all threads of this process), in microseconds. */
export function nodeCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
