// Commands contributed by other areas (transfer, registry, build, daemon) are listed here.
import type { Command } from '../context.js';
import { build } from './build.js';
import { pull, push, login, logout } from './registry.js';
import { load, save } from './transfer.js';
import { daemon } from './daemon.js';

export const extraCommands: Command[] = [build, pull, push, login, logout, load, save, daemon];
