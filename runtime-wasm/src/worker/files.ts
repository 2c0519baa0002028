/**
 * docker cp in worker mode while the container runs, the worker's side: the
 * copy in (the tar's bytes come with the request) and the changes out (the
 * tar's bytes go back with the answer) are served like exec, nested in the
 * main guest's blocked host call (requests.ts), synchronously, through the
 * same extraction rules and export as in-process mode.
 */
import { cancelled, failedPrecondition } from '@skiff/sdk';
import type { WasmContainer } from '../backend.js';
import { takeClaim, type Respond } from './requests.js';

export interface ImportRequest {
  dir: string;
  /** The uncompressed tar, transferred. */
  tar: Uint8Array;
  noOverwriteDirNonDir: boolean;
  /** The host may give up waiting: the copy then never happens (requests.ts). */
  claim: SharedArrayBuffer;
}

export class FileRequests {
  constructor(private readonly container: () => WasmContainer | undefined) {}

  private get live(): WasmContainer {
    const c = this.container();
    if (!c) throw failedPrecondition('the worker has no container');
    return c;
  }

  /** The `importFiles` request handler. */
  readonly importFiles = (req: ImportRequest): void => {
    const c = this.live;
    if (!takeClaim(req.claim)) throw cancelled('the copy was given up before it could run');
    c.importFilesNow(req.dir, req.tar, { noOverwriteDirNonDir: req.noOverwriteDirNonDir });
  };

  /** The `exportChanges` request handler: answers with the changes as an uncompressed tar. */
  readonly exportChanges = (_body: unknown, respond: Respond): void => {
    const tar = this.live.exportChangesNow(); // a buffer of its own: moved, not copied
    respond(tar, [tar.buffer as ArrayBuffer]);
  };
}
