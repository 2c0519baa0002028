import type { Command } from '../context.js';
import { run } from './run.js';
import { create, start, ps, rm, stop, kill, wait, logs, exec, inspectContainer, rename, pause, unpause } from './containers.js';
import { attach } from './attach.js';
import { images, tag, rmi, imageInspect } from './images.js';
import { volume } from './volume.js';
import { inspect, version, system } from './system.js';
import { extraCommands } from './extra.js';
import { port } from './port.js';
import { compose } from './compose.js';
import { network } from './network.js';
import { cp } from './cp.js';
import { update } from './update.js';
import { commit } from './commit.js';
import { importCommand } from './import.js';

export const commands: Command[] = [run, create, start, attach, ps, exec, logs, stop, kill, wait, rm, rename, pause, unpause, update, commit, importCommand, images, tag, rmi, volume, inspect, version, system, ...extraCommands, port, compose, network, cp, imageInspect, inspectContainer];

const groups: Record<string, Record<string, string>> = {
  image: { ls: 'images', list: 'images', inspect: 'image-inspect', rm: 'rmi', remove: 'rmi', tag: 'tag', load: 'load', save: 'save', pull: 'pull', push: 'push', build: 'build', import: 'import' },
  container: { ls: 'ps', list: 'ps', inspect: 'container-inspect', rm: 'rm', run: 'run', create: 'create', start: 'start', attach: 'attach', stop: 'stop', kill: 'kill', logs: 'logs', exec: 'exec', wait: 'wait', port: 'port', cp: 'cp', rename: 'rename', pause: 'pause', unpause: 'unpause', update: 'update', commit: 'commit' },
};

/** Finds the command for `skiff VERB ...` or `skiff image|container VERB ...`. */
export function findCommand(argv: string[]): { command?: Command; args: string[] } {
  const [first, second, ...rest] = argv as [string, string?, ...string[]];
  const byName = (n: string) => commands.find((c) => c.name === n || c.aliases?.includes(n));
  const group = groups[first];
  if (group && second !== undefined && group[second]) {
    const command = byName(group[second]!);
    return command ? { command, args: rest } : { args: rest };
  }
  const command = byName(first);
  return command ? { command, args: argv.slice(1) } : { args: argv.slice(1) };
}
