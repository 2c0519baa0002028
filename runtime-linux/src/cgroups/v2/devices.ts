/**
 * cgroup v2 devices: there is no devices.allow file; the kernel asks an eBPF
 * program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup. The policy is
 * the OCI device rule list (DEFAULT_DEVICE_RULES in spec/build.ts, written to
 * config.json's linux.resources.devices); skiff-runtime compiles it and
 * attaches the program, at every start (`run`), or on its own here.
 */
import { spawn } from 'node:child_process';
import { internal } from '@skiff/sdk';
import type { OciDeviceRule } from '../../spec/oci.js';

/** Attaches the filter for `rules` to the cgroup2 directory `dir` (replacing skiff's earlier one). */
export function applyDeviceRules(helper: string, dir: string, rules: OciDeviceRule[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(helper, ['devices', '--cgroup', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    p.on('error', (e) => reject(internal(`attach the device filter to ${dir}: ${e.message}`, e)));
    p.on('close', (code) => {
      if (code === 0) return resolve();
      let msg = err.trim();
      try { msg = (JSON.parse(msg) as { error: string }).error; } catch { /* not a helper error line */ }
      reject(internal(`attach the device filter to ${dir}: ${msg || `skiff-runtime exited ${code}`}`));
    });
    p.stdin.end(JSON.stringify(rules));
  });
}
