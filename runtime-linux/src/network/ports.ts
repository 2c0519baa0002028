/**
 * Publishing a container's TCP and UDP ports on the host (`-p`): one
 * `skiff-runtime proxy` per running container binds the host ports and joins
 * the container's network namespace to reach its loopback, as docker-proxy
 * does. It runs detached from the Engine (a CLI's `run -d` exits at once) and
 * ends by itself when the container's process ends. UDP is relayed per client
 * address, each with its own socket toward the container, so replies find
 * their client; a client's flow closes after 90 s without traffic (docker's
 * conntrack timeout) and a port keeps at most 1024 (native/src/proxy.h).
 */
import { spawn } from 'node:child_process';
import type { PortMapping } from '@skiff/sdk';
import { conflict, internal, unsupported } from '@skiff/sdk';

/** The proxy's `--map`: `HOSTIP:HOSTPORT:CONTAINERPORT[/udp]`. */
function mapArg(p: PortMapping): string {
  const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
  return `${ip}:${p.hostPort}:${p.containerPort}${p.protocol === 'udp' ? '/udp' : ''}`;
}

/** Starts the proxy for the process `pid`; resolves with the host ports actually bound. */
export function publishPorts(helper: string, pid: number, ports: PortMapping[], containerId: string): Promise<PortMapping[]> {
  const args = ['proxy', '--pid', String(pid), ...ports.flatMap((p) => ['--map', mapArg(p)])];
  const child = spawn(helper, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      fn();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const lines = out.split('\n');
      if (!lines.includes('ready')) return;
      const bound = lines.slice(0, ports.length).map((l) => Number(l.slice(l.lastIndexOf(':') + 1)));
      done(() => resolve(ports.map((p, i) => ({ ...p, hostPort: bound[i] ?? p.hostPort }))));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', (e) => done(() => reject(internal(`publishing ports of container ${containerId}: ${e.message}`, e))));
    child.on('close', (code) => {
      let message = err.trim() || `the port proxy exited with code ${code}`;
      let errno = 0;
      try {
        const parsed = JSON.parse(message) as { error: string; errno: number };
        message = parsed.error;
        errno = parsed.errno;
      } catch { /* not JSON: keep the text */ }
      const ENOENT = 2;
      const ESRCH = 3;
      // The process ended before the proxy looked (no pidfd, or its /proc entry gone): nothing is left to publish.
      if (errno === ESRCH || errno === ENOENT) return done(() => resolve(ports));
      const EADDRINUSE = 98;
      const EADDRNOTAVAIL = 99;
      const what = `container ${containerId}: ${message}`;
      done(() => reject(errno === EADDRINUSE ? conflict(`${what} (the host port is already in use; pick another with -p HOSTPORT:PORT)`) : errno === EADDRNOTAVAIL ? unsupported(`${what} (that address is not on this host)`) : internal(what)));
    });
  });
}
