/** Docker-style generated names (`brave_turing`) and IDs. */
const left = ['admiring', 'brave', 'calm', 'clever', 'eager', 'focused', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nimble', 'quiet', 'sharp', 'steady', 'tender', 'vivid', 'wise', 'zealous'];
const right = ['babbage', 'curie', 'darwin', 'euler', 'fermi', 'galois', 'hopper', 'kepler', 'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'wozniak', 'hamilton', 'lamport', 'liskov', 'knuth'];

function randomInt(n: number): number {
  const b = new Uint32Array(1);
  crypto.getRandomValues(b);
  return b[0]! % n;
}

export function randomName(taken: (n: string) => boolean): string {
  for (let i = 0; ; i++) {
    const n = `${left[randomInt(left.length)]}_${right[randomInt(right.length)]}${i > 5 ? randomInt(100) : ''}`;
    if (!taken(n)) return n;
  }
}

export function randomId(): string {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function isValidContainerName(n: string): boolean {
  return NAME.test(n);
}
