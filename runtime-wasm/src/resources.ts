/** docker update on the wasm backends: what a guest's limits allow to change. */
import { unsupported, type SkiffError } from '@skiff/sdk';

/** A guest's memory maximum is fixed when it starts (its linear memory's cap): a running one keeps it. */
export function runningMemoryChange(id: string): SkiffError {
  return unsupported(`the wasm backend cannot change the memory limit of running container ${id}: a guest's memory maximum is fixed when it starts; stop it, update it, and start it again`);
}
