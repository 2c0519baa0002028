// @skiff/runtime-linux: the Linux backend (namespaces, cgroups v1/v2, overlayfs) over the skiff-runtime helper.
import type { Backend } from '@skiff/sdk';
import { unavailable } from '@skiff/sdk';
import { LinuxBackend, whyUnavailable, type LinuxBackendOptions } from './backend.js';
import { findHelper } from './process/helper.js';

export { LinuxBackend, hostPlatform, whyUnavailable, mountsUnder, type LinuxBackendOptions, type OrphanReport } from './backend.js';
export { LinuxContainer } from './container.js';
export { buildOciConfig, MASKED_PATHS, READONLY_PATHS, DEFAULT_DEVICE_RULES, type BundleOptions, type RootfsLayout } from './spec/build.js';
export type { OciConfig, OciMount, OciProcess } from './spec/oci.js';
export { DEFAULT_CAPABILITIES, ALL_CAPABILITIES, resolveCapabilities, normalizeCapability } from './spec/capabilities.js';
export { defaultSeccompProfile, DENIED_SYSCALLS, type SeccompProfile } from './spec/seccomp.js';
export { resolveUser, type ResolvedUser } from './spec/user.js';
export { createCgroupManager, detectCgroupSetup, listCgroupIds, v1Mounts, type CgroupManager, type CgroupSetup, type CgroupOptions } from './cgroups/index.js';
export { applyDeviceRules } from './cgroups/v2/devices.js';
export { LayerStore, unpackForOverlay, unpackForOverlay as unpackLayer } from './rootfs/layer-store.js';
export { findHelper } from './process/helper.js';
export { preparePeerBundle, type PeerBundle } from './peer-bundle.js';

/**
 * The Linux backend, checked for use here: Linux, root, the native helper
 * built (it is built now from native/src when a C compiler is present).
 * Throws SkiffError UNAVAILABLE saying what is missing otherwise.
 */
export function createLinuxBackend(options: LinuxBackendOptions = {}): LinuxBackend {
  const why = whyUnavailable();
  if (why) throw unavailable(`the linux backend cannot run here: ${why}`);
  if (!options.helper) findHelper();
  return new LinuxBackend(options);
}

/** The entry createNodeEngine looks for in a backend package. */
export function createBackend(_options: { root: string }): Backend {
  return createLinuxBackend();
}
