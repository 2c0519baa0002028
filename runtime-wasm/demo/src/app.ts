/**
 * The demo page: pick a sample image, type a command line, run it in a Web
 * Worker and watch stdout and stderr stream in; the second panel shows the
 * image's layers (fetched on demand from a static OCI layout) and what the
 * container changed (exportChanges), and the files of a volume kept in
 * IndexedDB across reloads.
 *
 * skiff comes from skiff.js (the browser bundle), loaded beside this file.
 */
import * as skiff from '../../src/browser/bundle.js';
import { splitCommand } from './command.js';

type Container = Awaited<ReturnType<skiff.Engine['create']>>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('run-form');
const imageSelect = $<HTMLSelectElement>('image');
const cmdInput = $<HTMLInputElement>('cmd');
const stdinInput = $<HTMLTextAreaElement>('stdin');
const useVolume = $<HTMLInputElement>('use-volume');
const timeoutInput = $<HTMLInputElement>('timeout');
const memoryInput = $<HTMLInputElement>('memory');
const runButton = $<HTMLButtonElement>('run');
const killButton = $<HTMLButtonElement>('kill');
const statusEl = $<HTMLSpanElement>('status');
const output = $<HTMLPreElement>('output');
const exitBox = $<HTMLDivElement>('exit');
const exitCode = $<HTMLElement>('exit-code');
const exitDetail = $<HTMLSpanElement>('exit-detail');
const layersBody = document.querySelector('#layers tbody') as HTMLTableSectionElement;
const imageName = $<HTMLSpanElement>('image-name');
const changesList = $<HTMLUListElement>('changes');
const volumeList = $<HTMLUListElement>('volume');
const examplesRow = $<HTMLDivElement>('examples');

const VOLUME = 'demo-data';
const base = new URL('.', location.href);
const { engine, layout, volumes } = skiff.createBrowserEngine({ images: new URL('images/', base), workerUrl: new URL('skiff-worker.js', base) });
const store = volumes as skiff.IndexedDbVolumeStore;
let current: Container | undefined;

/** Example command lines per image (by the image's short name). */
const EXAMPLES: Record<string, Array<[string, string]>> = {
  'skiff/toolbox': [
    ['hello', "sh -c 'echo hello from skiff; ls /bin | wc -l'"],
    ['stderr too', "sh -c 'echo to stdout; echo to stderr >&2; exit 3'"],
    ['write the volume', "sh -c 'echo kept across reloads > /data/note; ls -l /data'"],
    ['read the volume', 'cat /data/note'],
    ['change files', "sh -c 'mkdir -p /tmp/work && echo data > /tmp/work/f && rm /etc/os-release && ls /tmp/work'"],
    ['sleep 30', 'sleep 30'],
  ],
  'skiff/hello': [['hello', '']],
  'skiff/sqlite': [['sqlite', "sqlite3 /data/demo.db 'create table if not exists t(x); insert into t values (1); select count(*) from t;'"]],
  'demo/runaway': [
    ['spin forever', 'spin'],
    ['tick slowly', 'tick 10 300'],
    ['echo stdin', 'echo'],
  ],
};

function shortName(ref: string): string {
  return ref.replace(/^docker\.io\//, '').replace(/^library\//, '').replace(/:latest$/, '');
}

function setStatus(state: string, text: string): void {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

function append(stream: 'stdout' | 'stderr', data: Uint8Array): void {
  const text = decoders[stream].decode(data, { stream: true });
  if (!text) return;
  const last = output.lastElementChild as HTMLSpanElement | null;
  if (last && last.className === (stream === 'stderr' ? 'err' : 'out')) last.textContent += text;
  else {
    const span = document.createElement('span');
    span.className = stream === 'stderr' ? 'err' : 'out';
    span.textContent = text;
    output.append(span);
  }
  output.scrollTop = output.scrollHeight;
}

function human(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function li(text: string, cls = ''): HTMLLIElement {
  const el = document.createElement('li');
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

async function showLayers(): Promise<void> {
  const name = imageSelect.value;
  imageName.textContent = shortName(name);
  const img = await engine.images.resolve(name, [skiff.WASI_PLATFORM]);
  const history = (img.config.history ?? []).filter((h) => !h.empty_layer);
  layersBody.replaceChildren(
    ...img.manifest.layers.map((l, i) => {
      const tr = document.createElement('tr');
      const fetched = layout.downloads.includes(l.digest);
      for (const [text, code] of [[String(i + 1), false], [l.digest.slice(7, 19), true], [human(l.size), false], [history[i]?.created_by ?? '', false], [fetched ? 'yes' : 'not yet', false]] as const) {
        const td = document.createElement('td');
        if (code) {
          const c = document.createElement('code');
          c.textContent = text;
          c.title = l.digest;
          td.append(c);
        } else td.textContent = text;
        tr.append(td);
      }
      tr.dataset.fetched = String(fetched);
      return tr;
    }),
  );
}

async function showChanges(c: Container): Promise<void> {
  const items: HTMLLIElement[] = [];
  for await (const entry of skiff.readTar(await c.exportChanges())) {
    const path = `/${entry.header.path.replace(/^\.?\//, '').replace(/\/$/, '')}`;
    const w = skiff.classifyWhiteout(path.slice(1));
    if (w?.kind === 'whiteout') items.push(li(`/${w.target}`, 'deleted'));
    else if (w?.kind === 'opaque') items.push(li(`/${w.dir}/ (replaced whole)`, 'deleted'));
    else {
      const what = entry.header.type === 'directory' ? '/' : entry.header.type === 'symlink' ? ` -> ${entry.header.linkname}` : ` (${human(entry.header.size)})`;
      items.push(li(`${path}${what}`, 'added'));
    }
    if (items.length >= 200) break;
  }
  changesList.replaceChildren(...(items.length ? items : [li('no changes', 'dim')]));
}

async function showVolume(): Promise<void> {
  if (!(await volumes.list()).some((v) => v.name === VOLUME)) {
    volumeList.replaceChildren(li('empty: not created yet', 'dim'));
    return;
  }
  const fs = (await volumes.handle(VOLUME)).fs as unknown as skiff.MemoryFs;
  const items: HTMLLIElement[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = fs.lstatSync(p)!;
      if (st.isDirectory()) {
        items.push(li(`/data${p}/`));
        walk(p);
      } else items.push(li(`/data${p} (${human(Number(st.size))})`));
    }
  };
  walk('/');
  volumeList.replaceChildren(...(items.length ? items : [li('empty', 'dim')]));
}

function showExamples(): void {
  const list = EXAMPLES[shortName(imageSelect.value)] ?? [];
  examplesRow.replaceChildren(
    ...list.map(([label, line]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.dataset.cmd = line;
      b.addEventListener('click', () => void (cmdInput.value = line));
      return b;
    }),
  );
}

function showExit(status: skiff.ExitStatus): void {
  exitBox.hidden = false;
  exitBox.dataset.ok = String(status.exitCode === 0);
  exitCode.textContent = String(status.exitCode);
  const bits: string[] = [];
  if (status.signal) bits.push(status.signal);
  if (status.oomKilled) bits.push('out of memory');
  if (status.error) bits.push(status.error);
  exitDetail.textContent = bits.length ? `(${bits.join('; ')})` : '';
}

async function run(): Promise<void> {
  output.replaceChildren();
  exitBox.hidden = true;
  changesList.replaceChildren(li('…', 'dim'));
  runButton.disabled = true;
  setStatus('starting', 'fetching layers and starting a worker…');
  const args = splitCommand(cmdInput.value);
  const stdin = stdinInput.value;
  try {
    const c = await engine.create({
      image: imageSelect.value,
      ...(args.length ? { cmd: args } : {}),
      ...(useVolume.checked ? { volumes: [`${VOLUME}:/data`] } : {}),
      timeoutMs: Number(timeoutInput.value) || 5000,
      memory: (Number(memoryInput.value) || 64) * 1024 * 1024,
    });
    current = c;
    void showLayers();
    const reader = (await c.attach()).getReader();
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        append(value.stream === 'stderr' ? 'stderr' : 'stdout', value.data);
      }
    })();
    await c.start(stdin ? { stdin: stdin.endsWith('\n') ? stdin : `${stdin}\n` } : {});
    killButton.disabled = false;
    setStatus('running', 'running in a Web Worker…');
    const status = await c.wait();
    killButton.disabled = true;
    await pump;
    showExit(status);
    await showChanges(c).catch((err) => changesList.replaceChildren(li(`cannot export: ${(err as Error).message}`, 'deleted')));
    await c.remove({ force: true });
    // Saved before the page says it is done: a reload now keeps the volume.
    await store.flush();
    await showVolume();
    await showLayers();
    setStatus('exited', `exited with ${status.exitCode}`);
  } catch (err) {
    setStatus('error', (err as Error).message);
  } finally {
    current = undefined;
    runButton.disabled = false;
    killButton.disabled = true;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!runButton.disabled) void run();
});
killButton.addEventListener('click', () => void current?.kill().catch(() => {}));
imageSelect.addEventListener('change', () => {
  showExamples();
  const first = EXAMPLES[shortName(imageSelect.value)]?.[0];
  if (first) cmdInput.value = first[1];
  void showLayers();
});

// The page's own clock: it keeps ticking while a guest spins in its worker.
let beats = 0;
const heartbeat = $<HTMLOutputElement>('heartbeat');
setInterval(() => void (heartbeat.value = String(++beats)), 100);
$<HTMLSpanElement>('isolation').textContent = skiff.canShareMemory()
  ? 'cross-origin isolated: stdin streams into running guests'
  : 'not cross-origin isolated: stdin is sent whole at start';

async function init(): Promise<void> {
  try {
    const refs = (await layout.listRefs()).map((r) => r.name).sort();
    imageSelect.replaceChildren(
      ...refs.map((r) => {
        const o = document.createElement('option');
        o.value = r;
        o.textContent = shortName(r);
        return o;
      }),
    );
    const toolbox = refs.find((r) => shortName(r) === 'skiff/toolbox');
    if (toolbox) imageSelect.value = toolbox;
    imageSelect.disabled = false;
    showExamples();
    await showLayers();
    await showVolume();
    runButton.disabled = false;
    setStatus('ready', 'ready');
    document.body.dataset.ready = 'true';
  } catch (err) {
    setStatus('error', `cannot load the images: ${(err as Error).message}`);
  }
}

void init();
