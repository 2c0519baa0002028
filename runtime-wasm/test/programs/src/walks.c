// walks: paths that share their directories while those directories change
// between calls: renamed, removed and made again, replaced by a symlink and
// back, moved over an empty directory, a parent renamed. A host that
// remembers the directories of a path it walked (as skiff does, like a
// kernel's dentry cache) must see every change at once. Works in ./walks.
#include "common.h"

static void show(const char *label, const char *path) { printf("%s: %s\n", label, file_text(path)); }

int main(void) {
  CHECK("mkdir walks", mkdir("walks", 0755));
  CHECK("chdir walks", chdir("walks"));
  CHECK("mkdir a", mkdir("a", 0755));
  CHECK("mkdir a/b", mkdir("a/b", 0755));
  put_file("a/b/f1", "one");
  show("read a/b/f1", "a/b/f1");

  // The walked directory renamed away: its old path is gone at once.
  CHECK("rename a/b a/c", rename("a/b", "a/c"));
  show("read a/b/f1 after rename", "a/b/f1");
  CHECK("create a/b/new after rename", open("a/b/new", O_WRONLY | O_CREAT, 0644));
  show("read a/c/f1", "a/c/f1");

  // A new directory at the old name is a different directory.
  CHECK("mkdir a/b again", mkdir("a/b", 0755));
  STAT("stat a/b/f1 in the new a/b", stat, "a/b/f1");
  put_file("a/b/f2", "two");
  show("read a/b/f2", "a/b/f2");

  // Removed and made again: nothing of the old one shows.
  CHECK("unlink a/b/f2", unlink("a/b/f2"));
  CHECK("rmdir a/b", rmdir("a/b"));
  STAT("stat a/b/f2 after rmdir", stat, "a/b/f2");
  CHECK("create a/b/g after rmdir", open("a/b/g", O_WRONLY | O_CREAT, 0644));
  CHECK("mkdir a/b a third time", mkdir("a/b", 0755));
  STAT("stat a/b/f2 in the third a/b", stat, "a/b/f2");

  // A directory replaced by a symlink to another one, and back.
  CHECK("rmdir a/b again", rmdir("a/b"));
  CHECK("symlink a/b -> c", symlink("c", "a/b"));
  show("read a/b/f1 through the symlink", "a/b/f1");
  show("read a/b/f1 through the symlink again", "a/b/f1");
  CHECK("unlink the symlink a/b", unlink("a/b"));
  STAT("stat a/b/f1 after the symlink went", stat, "a/b/f1");
  CHECK("mkdir a/b a fourth time", mkdir("a/b", 0755));
  STAT("stat a/b/f1 in the fourth a/b", stat, "a/b/f1");
  put_file("a/b/f4", "four");

  // A parent renamed: every path below it moves.
  CHECK("rename a z", rename("a", "z"));
  show("read a/b/f4 after the parent's rename", "a/b/f4");
  show("read z/b/f4", "z/b/f4");
  show("read z/b/../b/f4", "z/b/../b/f4");
  show("read z/./b//f4", "z/./b//f4");

  // A directory moved over an empty one: the name now holds the moved one.
  CHECK("mkdir x", mkdir("x", 0755));
  CHECK("mkdir x/full", mkdir("x/full", 0755));
  CHECK("mkdir x/empty", mkdir("x/empty", 0755));
  put_file("x/full/g", "gee");
  STAT("stat x/empty/g", stat, "x/empty/g");
  CHECK("rename x/full x/empty", rename("x/full", "x/empty"));
  show("read x/empty/g", "x/empty/g");
  show("read x/full/g", "x/full/g");

  // Changes made through a symlinked parent, between two walks of the real path.
  CHECK("mkdir m", mkdir("m", 0755));
  CHECK("mkdir m/d", mkdir("m/d", 0755));
  put_file("m/d/k", "kay");
  CHECK("symlink l -> m", symlink("m", "l"));
  show("read m/d/k", "m/d/k");
  CHECK("rename l/d l/e", rename("l/d", "l/e"));
  show("read m/d/k after a rename through l", "m/d/k");
  show("read m/e/k", "m/e/k");
  show("read m/e/k again", "m/e/k");
  CHECK("unlink l/e/k", unlink("l/e/k"));
  CHECK("rmdir l/e", rmdir("l/e"));
  STAT("stat m/e after an rmdir through l", stat, "m/e");
  CHECK("create m/e/k after an rmdir through l", open("m/e/k", O_WRONLY | O_CREAT, 0644));
  CHECK("mkdir m/d again", mkdir("m/d", 0755));
  put_file("m/d/k", "kay2");
  show("read m/d/k once more", "m/d/k");
  CHECK("unlink l/d/k", unlink("l/d/k"));
  CHECK("rmdir l/d", rmdir("l/d"));
  CHECK("symlink l/d -> ../x/empty", symlink("../x/empty", "l/d"));
  show("read m/d/g through the new symlink", "m/d/g");

  // Files coming and going in a walked directory leave it walked right.
  for (int i = 0; i < 3; i++) {
    char p[32];
    snprintf(p, sizeof p, "x/empty/h%d", i);
    put_file(p, "h");
    CHECK("unlink a file in the walked directory", unlink(p));
  }
  show("read x/empty/g at the end", "x/empty/g");
  return 0;
}
