/**
 * Inode numbers of skiff's file systems. They start far above the shim's own
 * counter (which numbers the shim's in-memory inodes from 1) so the two never
 * meet, and a layer's node keeps its number for the life of the process: every
 * container of an image sees the same inode numbers for the image's files.
 */
let next = 1n << 32n;

export function newIno(): bigint {
  return next++;
}
