/**
 * cgroup v1 devices: deny every device, then allow Docker's defaults. This is
 * what stops a container with CAP_MKNOD from making and opening a host disk.
 */
import type { Controller } from '../types.js';
import { writeCgroupFile } from '../fs.js';

/** Docker's default allow list (runc's AllowedDevices). */
export const DEFAULT_DEVICE_RULES = [
  'c *:* m', 'b *:* m',
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', // null zero full random urandom
  'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', // tty console ptmx
  'c 136:* rwm', // pts
  'c 10:200 rwm', // tun
];

export const devicesV1: Controller = {
  name: 'devices',
  async apply(dir) {
    await writeCgroupFile(dir, 'devices.deny', 'a');
    for (const rule of DEFAULT_DEVICE_RULES) await writeCgroupFile(dir, 'devices.allow', rule);
  },
  async stats() {},
};
