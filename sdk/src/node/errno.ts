/** A Node fs error's code (ENOENT, EACCES...), or its message when it has none: for messages and errno checks. */
export function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
