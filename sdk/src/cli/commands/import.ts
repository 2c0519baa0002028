/** skiff import: a root file system tarball as a one-layer image (docker import). */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs, helpText, requireArgs, str, list, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { invalidArgument, notFound, unsupported } from '../../errors/index.js';
import { parsePlatform } from '../../image/platform.js';
import type { ImportRootfsOptions } from '../../runtime/import-rootfs.js';

const USAGE = 'skiff import [OPTIONS] file|- [REPOSITORY[:TAG]]';
const DESCRIPTION = 'Import the contents from a tarball to create a filesystem image';

const flags: FlagSpec[] = [
  { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image', value: 'list' },
  { name: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image', value: 'string' },
  { name: 'platform', type: 'string', help: 'Set platform of the image (e.g. linux/amd64, wasip1/wasm; default: the first one a backend here runs)', value: 'string' },
];

export const importCommand: Command = {
  name: 'import',
  usage: USAGE,
  description: DESCRIPTION,
  async run(argv, ctx) {
    const { flags: f, args } = parseArgs(argv, [...flags, HELP_FLAG]);
    if (f.help) return ctx.out(helpText(USAGE, DESCRIPTION, flags)), 0;
    requireArgs(args, 1, USAGE, 2);
    const source = args[0]!;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
      throw unsupported(`importing from a URL (${source}) is not supported: skiff does not download (its containers have no network beyond this machine); download the tarball yourself and import the file`);
    }
    if (source === '-' && ctx.io.stdin.isTTY) throw new UsageError('import from stdin, but stdin is a terminal; pipe a tarball in or give a FILE');
    const o: ImportRootfsOptions = { changes: list(f.change) };
    if (args[1]) o.reference = args[1];
    if (str(f.message)) o.message = str(f.message)!;
    if (str(f.platform)) o.platform = parsePlatform(str(f.platform)!);
    const input = source === '-' ? (ctx.io.stdin as Readable) : await openFile(source);
    const engine = await ctx.engine().catch((err: unknown) => { if (input !== ctx.io.stdin) input.destroy(); throw err; });
    const made = await engine.importImage(Readable.toWeb(input) as ReadableStream<Uint8Array>, o);
    ctx.out(made.id + '\n');
    return 0;
  },
};

/** The file, opened: a missing or unreadable one fails here, before the store is touched, naming the path. */
function openFile(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', (err: NodeJS.ErrnoException) => reject(
      err.code === 'ENOENT' ? notFound(`open ${path}: no such file or directory`) : invalidArgument(`open ${path}: ${err.message}`, err),
    ));
  });
}
