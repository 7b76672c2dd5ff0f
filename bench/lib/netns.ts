/** Runs the bench in a network namespace of its own when a peer cannot use loopback. */
import { spawnSync } from 'node:child_process';

/**
 * Janus never gathers loopback candidates (it skips loopback interfaces), so a run with Janus happens in a network
 * namespace of its own: loopback plus a veth pair whose one end holds 127.0.1.1, where Janus and the bots meet. Every
 * SFU of that run (ours and LiveKit too) runs in the same namespace, on the same terms. Needs root (unshare -n).
 */
const NETNS_SETUP = 'set -e; ip link set lo up; ip link add mmb0 type veth peer name mmb1; ip addr add 127.0.1.1/32 dev mmb0; ' +
  'ip link set mmb1 up; ip link set mmb0 up; exec "$@"';

export function needsNamespace(argv: string[]): boolean {
  if (argv[0] === 'compare') return true;
  const i = argv.findIndex((a) => a === '--sfu' || a.startsWith('--sfu='));
  const flag = i < 0 ? '' : argv[i]!;
  const value = flag.includes('=') ? flag.split('=')[1]! : i < 0 ? '' : argv[i + 1] ?? '';
  return value.split(',').includes('janus');
}

export function reexecInNamespace(script: string, argv: string[]): never {
  const r = spawnSync('unshare', ['-n', 'bash', '-c', NETNS_SETUP, 'netns', process.execPath, '--import', 'tsx', script, ...argv], {
    stdio: 'inherit', env: { ...process.env, BENCH_NETNS: '1', BENCH_BIND_IP: '127.0.1.1' },
  });
  if (r.error || (r.status !== 0 && r.status !== 1)) {
    console.error(`bench: could not run in a network namespace of its own (needed for Janus): ${r.error?.message ?? `exit ${r.status}`}; ` +
      'run as root with util-linux unshare and iproute2, or leave janus out of --sfu');
  }
  process.exit(r.status ?? 1);
}

