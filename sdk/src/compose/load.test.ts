import { describe, expect, it } from 'vitest';
import { interpolate, parseDotEnv } from './interpolate.js';
import { loadCompose, projectNameFrom } from './load.js';
import { shellSplit } from './model.js';
import { startOrder } from './order.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '' };
const lookup = (n: string) => env[n];

describe('interpolation', () => {
  it.each([
    ['plain', 'plain'],
    ['$SET and ${SET}', 'value and value'],
    ['${UNSET:-def} ${EMPTY:-def} ${EMPTY-def} ${UNSET-def}', 'def def  def'],
    ['${SET:+alt}${UNSET:+alt}${EMPTY+alt}', 'altalt'],
    ['$$SET costs $$5', '$SET costs $5'],
    ['${UNSET:-${SET}}', 'value'],
    ['a$', 'a$'],
  ])('%s', (text, want) => {
    expect(interpolate(text, lookup, 'x')).toBe(want);
  });

  it('fails clearly on required variables and bad syntax', () => {
    expect(() => interpolate('${UNSET:?set UNSET first}', lookup, 'services.a.image')).toThrow('services.a.image: required variable UNSET is missing: set UNSET first');
    expect(() => interpolate('${EMPTY:?}', lookup, 'x')).toThrow('required variable EMPTY is empty');
    expect(() => interpolate('${SET', lookup, 'x')).toThrow('unclosed');
    expect(() => interpolate('${1X}', lookup, 'x')).toThrow('invalid variable');
  });

  it('reads .env files', () => {
    expect(parseDotEnv('# comment\nA=1\nexport B="two words"\nC=\'$lit\'\nD=x # trailing\n\nE', '.env')).toEqual({ A: '1', B: 'two words', C: '$lit', D: 'x' });
    expect(() => parseDotEnv('1BAD=x', '.env')).toThrow('.env:1');
  });
});

describe('loading a compose file', () => {
  const load = (text: string, files: Record<string, string> = {}, extra: Record<string, string> = {}) =>
    loadCompose({ text, file: '/p/compose.yaml', dir: '/p/My App', env: { ...extra }, readText: (p) => files[p] });

  it('normalizes services into Engine options, with .env and the environment interpolated', () => {
    const p = load(`
services:
  web:
    image: "busybox:\${TAG:-1}"
    command: sh -c 'echo "$$HOME"; sleep 1'
    environment:
      MODE: \${MODE}
      LIST: [no]
    env_file: web.env
    ports: ["127.0.0.1:8080:80", 9000, { target: 53, protocol: udp }]
    volumes: ["data:/data", "./site:/site:ro", "/anon", { type: tmpfs, target: /run }]
    depends_on: { db: { condition: service_completed_successfully } }
    restart: always
  db:
    build: { context: ./db, args: [VERSION=2] }
volumes:
  data: {}
`.replace('LIST: [no]', 'LIST: "yes"'), { '/p/My App/.env': 'MODE=from-dotenv\nTAG=2\n', '/p/My App/web.env': 'FROM_FILE=1\nMODE=overridden\n' });
    expect(p.name).toBe('myapp');
    const web = p.services.web!;
    expect(web.image).toBe('busybox:2');
    expect(web.create).toMatchObject({
      cmd: ['sh', '-c', 'echo "$HOME"; sleep 1'],
      env: { FROM_FILE: '1', MODE: 'from-dotenv', LIST: 'yes' },
      ports: ['127.0.0.1:8080:80', '9000', '53/udp'],
      volumes: ['myapp_data:/data', '/p/My App/site:/site:ro', '/anon'],
      tmpfs: ['/run'],
    });
    expect(web.dependsOn).toEqual({ db: { condition: 'service_completed_successfully', required: true } });
    expect(p.services.db!.build).toEqual({ context: '/p/My App/db', args: { VERSION: '2' } });
    expect(p.volumes).toEqual({ data: { name: 'myapp_data', external: false } });
    expect(web.create.restartPolicy).toEqual({ name: 'always' });
    expect(startOrder(p.services)).toEqual(['db', 'web']);
  });

  it('maps logging: to the log driver and options (numbers as strings), and checks its keys', () => {
    const p = load('services:\n  a:\n    image: x\n    logging:\n      driver: json-file\n      options:\n        max-size: 10m\n        max-file: 3\n  b:\n    image: x\n    logging: { options: { max-size: 1k } }\n');
    expect(p.services.a!.create.logConfig).toEqual({ type: 'json-file', config: { 'max-size': '10m', 'max-file': '3' } });
    expect(p.services.b!.create.logConfig).toEqual({ config: { 'max-size': '1k' } });
    expect(p.warnings).toEqual([]);
    expect(() => load('services:\n  a:\n    image: x\n    logging: { drive: local }\n')).toThrow(/services.a.logging: unknown key "drive"/);
  });

  it('maps the finer limits (memswap_limit, mem_reservation, cpu_shares, cpu_quota, cpu_period, cpuset)', () => {
    const p = load('services:\n  a:\n    image: x\n    mem_limit: 64m\n    memswap_limit: 128m\n    mem_reservation: 16m\n    cpu_shares: 512\n    cpu_quota: 50000\n    cpu_period: 100000\n    cpuset: "0-1"\n');
    expect(p.services.a!.create).toMatchObject({ memory: '64m', memorySwap: '128m', memoryReservation: '16m', cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0-1' });
    expect(() => load('services:\n  a:\n    image: x\n    cpu_shares: lots\n')).toThrow('services.a.cpu_shares: expected a whole number, got "lots"');
  });

  it('maps security_opt: as docker run --security-opt, a seccomp file read from the project directory', () => {
    const files = { '/p/My App/sec.json': '{ "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [] }' };
    const p = load('services:\n  a:\n    image: x\n    security_opt:\n      - no-new-privileges:true\n      - seccomp=sec.json\n      - label=disable\n', files);
    expect(p.services.a!.create.securityOpt).toEqual(['no-new-privileges:true', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}', 'label=disable']);
    expect(() => load('services:\n  a:\n    image: x\n    security_opt: [seccomp=nope.json]\n')).toThrow('/p/compose.yaml: --security-opt seccomp=nope.json: cannot read the profile: services.a.security_opt: no file /p/My App/nope.json');
    expect(() => load('services:\n  a:\n    image: x\n    security_opt: [no-new-privileges=yes]\n')).toThrow(/no-new-privileges takes true or false/);
  });

  it('maps init: to the init as PID 1, either way; unset leaves the backend default', () => {
    const p = load('services:\n  a:\n    image: x\n    init: false\n  b:\n    image: x\n    init: true\n  c:\n    image: x\n');
    expect([p.services.a!.create.init, p.services.b!.create.init, p.services.c!.create.init]).toEqual([false, true, undefined]);
    expect(p.warnings).toEqual([]);
    expect(() => load('services:\n  a:\n    image: x\n    init: sometimes\n')).toThrow(/services.a.init/);
  });

  it('the environment wins over .env, and a name: key or -p names the project', () => {
    const p = load('name: Named_Project\nservices:\n  a:\n    image: x:${V}\n', { '/p/My App/.env': 'V=dotenv' }, { V: 'shell' });
    expect(p.name).toBe('named_project');
    expect(p.services.a!.image).toBe('x:shell');
  });

  it.each([
    ['services: {}', 'no services'],
    ['services:\n  a: {}', 'services.a: needs an image or a build'],
    ['services:\n  a:\n    image: x\n    bogus: 1', 'services.a: unknown key "bogus"'],
    ['services:\n  a:\n    image: x\n    secrets: [s]', 'secrets are not supported'],
    ['services:\n  a:\n    image: x\n    volumes: ["nope:/d"]', 'named volume "nope" is not declared'],
    ['services:\n  a:\n    image: x\n    depends_on: [b]', 'service "b" is not defined'],
    ['services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]', 'dependency cycle between services: a -> b -> a'],
    ['services:\n  a:\n    image: x\n    env_file: missing.env', 'env file /p/My App/missing.env not found'],
    ['services:\n  a:\n    image: x\n    network_mode: bridge2', 'network_mode "bridge2" is not supported'],
    ['services:\n  a:\n  image: [', '/p/compose.yaml:3'],
    ['services:\n  a:\n    image: x\n    image: y', 'compose.yaml'],
  ])('refuses %j', (text, message) => {
    expect(() => {
      const p = load(text);
      startOrder(p.services);
    }).toThrow(message);
  });
});

describe('helpers', () => {
  it('splits commands like a shell, without running one', () => {
    expect(shellSplit(`echo "a b" 'c $d' e\\ f ""`, 'x')).toEqual(['echo', 'a b', 'c $d', 'e f', '']);
    expect(() => shellSplit('echo "open', 'x')).toThrow('unclosed quote');
  });
  it('names projects like docker compose', () => {
    expect(projectNameFrom('My App.v2')).toBe('myappv2');
    expect(projectNameFrom('-x')).toBe('x');
  });
});
