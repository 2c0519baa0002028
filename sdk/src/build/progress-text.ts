/**
 * Build events as the text docker's classic builder prints (`Step 2/5 : COPY
 * ...`, ` ---> Using cache`, ` ---> 0123456789ab`), shared by `skiff build`
 * and the daemon's `POST /build` so both speak the same words.
 */
import { familiarName, parseReference } from '../image/reference.js';
import type { BuildEvent } from './builder.js';

/** A 12-digit short ID, with or without the `sha256:` prefix. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * The text for one event. RUN output is decoded by the caller's decoder (a
 * character may be split between chunks); without one it is left out, for
 * callers that copy the bytes through themselves.
 */
export function stepText(e: BuildEvent, decoder?: TextDecoder): string | undefined {
  switch (e.type) {
    case 'step': return `Step ${e.step}/${e.total} : ${e.text}\n`;
    case 'cached': return ' ---> Using cache\n';
    case 'result': return ` ---> ${shortId(e.id)}\n`;
    case 'output': return decoder ? decoder.decode(e.data, { stream: true }) : undefined;
    case 'done': return undefined;
  }
}

/** The closing lines: `Successfully built ID` and one `Successfully tagged NAME` per tag. */
export function resultText(id: string, names: string[]): string[] {
  return [`Successfully built ${shortId(id)}\n`, ...names.map((n) => `Successfully tagged ${familiarName(parseReference(n))}\n`)];
}
