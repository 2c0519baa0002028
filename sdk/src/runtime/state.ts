/**
 * The container state machine. Every verb checks its transition here first and
 * fails with a clear CONFLICT error otherwise.
 *
 *   created ──start──> running ──exit──> exited ──start──> running ...
 *      │                  │                 │
 *      └──── remove ──────┴─(force: kill)───┴──> removed
 */
import { conflict } from '../errors/index.js';

export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing';

export type Verb = 'start' | 'kill' | 'stop' | 'exec' | 'remove' | 'wait' | 'restart' | 'export';

const allowed: Record<Verb, ContainerStatus[]> = {
  start: ['created', 'exited'],
  kill: ['running'],
  stop: ['created', 'running', 'exited'], // docker: stopping a stopped container is a no-op
  exec: ['running'],
  remove: ['created', 'exited'],
  wait: ['created', 'running', 'exited', 'removing'],
  restart: ['created', 'running', 'exited'],
  export: ['created', 'running', 'exited'],
};

export function canDo(status: ContainerStatus, verb: Verb): boolean {
  return allowed[verb].includes(status);
}

export function assertCan(status: ContainerStatus, verb: Verb, name: string): void {
  if (canDo(status, verb)) return;
  switch (verb) {
    case 'start':
      throw conflict(status === 'running' ? `container ${name} is already running` : `container ${name} is being removed`);
    case 'kill':
    case 'exec':
      throw conflict(`container ${name} is not running`);
    case 'remove':
      throw conflict(`cannot remove container ${name}: it is ${status}; stop it first or use force`);
    default:
      throw conflict(`cannot ${verb} container ${name}: it is ${status}`);
  }
}
