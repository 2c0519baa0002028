import { SkiffError } from '../../errors/index.js';

/** A Dockerfile error that names the file, line and column. */
export function dockerfileError(file: string, line: number, column: number, message: string): SkiffError {
  return new SkiffError('INVALID_ARGUMENT', `${file}:${line}:${column}: ${message}`);
}
