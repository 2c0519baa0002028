/** `skiff load` and `skiff save`: docker save archives and OCI layouts. */
import { Readable, Writable } from 'node:stream';
import { parseArgs, helpText, requireArgs, str, UsageError, type FlagSpec, HELP_FLAG } from '../args.js';
import type { Command } from '../context.js';
import { importArchive, exportArchive, loadedMessages, type ImportOptions } from '../../transfer/index.js';
import { importPath, exportArchiveFile, exportDirectory } from '../../node/transfer.js';
import { parsePlatform } from '../../image/platform.js';


export const load: Command = {
  name: 'load',
  usage: 'skiff load [OPTIONS]',
  description: 'Load images from a tar archive (docker save or OCI layout) or an OCI layout directory',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [
      { name: 'input', short: 'i', type: 'string', help: 'Read from a tar archive file or an OCI layout directory, instead of STDIN', value: 'string' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
      { name: 'name', type: 'string', help: 'Repository for images the archive names by a tag only (as umoci does)', value: 'string' },
    ];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 0, 'load', 0);
    const engine = await ctx.engine();
    const o: ImportOptions = str(flags.name) ? { baseName: str(flags.name)! } : {};
    const input = str(flags.input);
    if (!input && ctx.io.stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is empty; use -i FILE');
    const result = input ? await importPath(input, engine.layout, o) : await importArchive(Readable.toWeb(ctx.io.stdin as Readable) as ReadableStream<Uint8Array>, engine.layout, o);
    if (!flags.quiet) for (const line of loadedMessages(result)) ctx.out(line + '\n');
    return result.images.length ? 0 : 1;
  },
};

export const save: Command = {
  name: 'save',
  usage: 'skiff save [OPTIONS] IMAGE [IMAGE...]',
  description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  async run(argv, ctx) {
    const specs: FlagSpec[] = [
      { name: 'output', short: 'o', type: 'string', help: 'Write to a file (or, with --format oci-dir, a directory), instead of STDOUT', value: 'string' },
      { name: 'format', type: 'string', help: "docker (default: what docker save writes), oci (an OCI layout tar) or oci-dir (an OCI layout directory)", value: 'string' },
      { name: 'platform', type: 'string', help: 'For multi-platform images: the platform manifest.json describes', value: 'string' },
    ];
    const { flags, args } = parseArgs(argv, [...specs, HELP_FLAG]);
    if (flags.help) return ctx.out(helpText(this.usage, this.description, specs)), 0;
    requireArgs(args, 1, 'save');
    const format = str(flags.format) ?? 'docker';
    if (!['docker', 'oci', 'oci-dir'].includes(format)) throw new UsageError(`invalid --format "${format}": use docker, oci or oci-dir`);
    const engine = await ctx.engine();
    // Names as stored: resolve each to its normalized stored name first.
    const names: string[] = [];
    for (const a of args) {
      const found = await engine.images.lookup(a);
      names.push(found.name ?? a);
    }
    const output = str(flags.output);
    const platform = str(flags.platform);
    if (format === 'oci-dir') {
      if (!output) throw new UsageError('--format oci-dir needs -o DIRECTORY');
      await exportDirectory(engine.layout, names, output);
      return 0;
    }
    const opts = { format: format as 'docker' | 'oci', ...(platform ? { platforms: [parsePlatform(platform)] } : {}) };
    if (output) {
      await exportArchiveFile(engine.layout, names, output, opts);
      return 0;
    }
    if (ctx.io.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const stream = await exportArchive(engine.layout, names, opts);
    await stream.pipeTo(Writable.toWeb(ctx.io.stdout as Writable) as WritableStream<Uint8Array>, { preventClose: true });
    return 0;
  },
};
