/** The OCI runtime-spec config.json, as far as skiff writes it. */
import type { SeccompProfile } from './seccomp.js';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciConfig {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: Array<{ type: string; path?: string }>;
    cgroupsPath?: string;
    resources?: {
      memory?: { limit?: number; swap?: number; reservation?: number };
      cpu?: { quota?: number; period?: number; shares?: number; cpus?: string };
      pids?: { limit: number };
      devices?: OciDeviceRule[];
    };
    maskedPaths?: string[];
    readonlyPaths?: string[];
    seccomp?: SeccompProfile;
    sysctl?: Record<string, string>;
    rootfsPropagation?: string;
  };
}
