/** Base64 of bytes and back, with the platform's atob/btoa (in Node and browsers alike). */

export function toBase64(b: Uint8Array): string {
  let s = '';
  // In slices: fromCharCode's arguments are bounded.
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
