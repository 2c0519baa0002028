// sh: a small POSIX-like shell that runs the toolbox's own applets
// in-process. WASI preview1 has no fork and no exec, so a pipeline runs its
// commands one after another, each reading what the previous one wrote to
// memory, and `$(...)` runs its commands into memory too.
//
// Supported: words with '...', "...", \ escapes; $VAR ${VAR} ${VAR:-x}
// ${VAR-x} ${VAR:+x} $? $# $0..$9 $@ $* $(...) and ~; NAME=value (alone, or
// before a command for that command only); ; && || | ! and newlines;
// redirections < > >> N> N>> N>&M (fds 0-2); # comments; the builtins cd,
// export, unset, exit, set (-e, -x, --), shift, `.`, `:`; `test`/`[` is an applet.
// Not supported: if/while/for/case, functions, globbing, $((...)),
// background jobs.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolbox.h"

#define PUSH(arr, n, item)                                        \
  do {                                                            \
    (arr) = tb_realloc((arr), sizeof *(arr) * (size_t)((n) + 1)); \
    (arr)[(n)++] = (item);                                        \
  } while (0)

// ---------------------------------------------------------------- syntax

enum { R_IN, R_OUT, R_APPEND, R_DUP };
typedef struct redir {
  int fd, kind, dupfd;
  char *word;  // the target, unexpanded (not used by R_DUP)
} redir;

typedef struct command {
  char **words;  // unexpanded, quotes kept; leading NAME=value are assignments
  int nwords;
  redir *redirs;
  int nredirs;
} command;

typedef struct pipeline {
  command *cmds;
  int ncmds, negate;
} pipeline;

enum { OP_AND = 1, OP_OR = 2 };
typedef struct andor {
  pipeline *pipes;
  int *ops;  // ops[k] joins pipes[k-1] and pipes[k]
  int npipes;
} andor;

typedef struct program {
  andor *items;
  int nitems;
} program;

enum { T_EOF, T_WORD, T_NEWLINE, T_SEMI, T_AMP, T_AND, T_OR, T_PIPE, T_REDIR };

typedef struct lexer {
  const char *s;
  size_t i, n;
  int final;       // no more input will come: an open quote is an error
  int incomplete;  // more input is needed (an open quote, a trailing \)
  int tok;
  char *word;  // T_WORD
  int rfd, rkind;  // T_REDIR
  size_t start;    // where the token began, for messages
} lexer;

enum { PARSE_OK, PARSE_INCOMPLETE, PARSE_ERROR };

static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int ends_word(char c) { return is_blank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>'; }

static size_t scan_paren(const char *s, size_t i, size_t n);

// Index after the closing '"' of a string opened before i; n+1 if unclosed.
static size_t scan_dquote(const char *s, size_t i, size_t n) {
  while (i < n) {
    if (s[i] == '\\') i += 2;
    else if (s[i] == '"') return i + 1;
    else if (s[i] == '$' && i + 1 < n && s[i + 1] == '(') i = scan_paren(s, i + 2, n);
    else i++;
  }
  return n + 1;
}

// Index after the ')' that closes a "$(" opened before i; n+1 if unclosed.
static size_t scan_paren(const char *s, size_t i, size_t n) {
  int depth = 1;
  while (i < n) {
    char c = s[i];
    if (c == '\\') i += 2;
    else if (c == '\'') {
      const char *q = memchr(s + i + 1, '\'', n - i - 1);
      if (!q) return n + 1;
      i = (size_t)(q - s) + 1;
    } else if (c == '"') i = scan_dquote(s, i + 1, n);
    else if (c == '(') depth++, i++;
    else if (c == ')') {
      if (--depth == 0) return i + 1;
      i++;
    } else i++;
  }
  return n + 1;
}

// Index after the '}' of a "${" opened before i; n+1 if unclosed.
static size_t scan_brace(const char *s, size_t i, size_t n) {
  int depth = 1;
  for (; i < n; i++) {
    if (s[i] == '\\') i++;
    else if (s[i] == '{') depth++;
    else if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return n + 1;
}

static void lex_word(lexer *L) {
  const char *s = L->s;
  size_t i = L->i, n = L->n;
  while (i < n && !ends_word(s[i])) {
    char c = s[i];
    size_t next = i + 1;
    if (c == '\\') {
      next = i + 2;
      if (next == n && s[i + 1] == '\n' && !L->final) next = n + 1;  // a line that goes on
    } else if (c == '\'') {
      const char *q = memchr(s + i + 1, '\'', n - i - 1);
      next = q ? (size_t)(q - s) + 1 : n + 1;
    } else if (c == '"') next = scan_dquote(s, i + 1, n);
    else if (c == '$' && i + 1 < n && s[i + 1] == '(') next = scan_paren(s, i + 2, n);
    else if (c == '$' && i + 1 < n && s[i + 1] == '{') next = scan_brace(s, i + 2, n);
    if (next > n) {
      // Open quote (or a lone trailing backslash) at the end of the input.
      if (L->final && c == '\\') next = n;
      else {
        L->incomplete = 1;
        L->tok = T_EOF;
        return;
      }
    }
    i = next;
  }
  L->tok = T_WORD;
  L->word = tb_strndup(s + L->i, i - L->i);
  L->i = i;
}

static void advance(lexer *L) {
  free(L->word);
  L->word = NULL;
  const char *s = L->s;
  size_t n = L->n;
  for (;;) {
    while (L->i < n && is_blank(s[L->i])) L->i++;
    if (L->i + 1 < n && s[L->i] == '\\' && s[L->i + 1] == '\n') {
      L->i += 2;
      if (L->i == n && !L->final) {  // a line that goes on
        L->incomplete = 1;
        L->tok = T_EOF;
        return;
      }
      continue;
    }
    if (L->i + 1 == n && s[L->i] == '\\' && !L->final) {
      L->incomplete = 1;
      L->tok = T_EOF;
      return;
    }
    if (L->i < n && s[L->i] == '#') {
      while (L->i < n && s[L->i] != '\n') L->i++;
      continue;
    }
    break;
  }
  L->start = L->i;
  if (L->i >= n) {
    L->tok = T_EOF;
    return;
  }
  char c = s[L->i], d = L->i + 1 < n ? s[L->i + 1] : 0;
  if (c == '\n') L->tok = T_NEWLINE, L->i++;
  else if (c == ';') L->tok = T_SEMI, L->i++;
  else if (c == '&') L->tok = d == '&' ? T_AND : T_AMP, L->i += d == '&' ? 2 : 1;
  else if (c == '|') L->tok = d == '|' ? T_OR : T_PIPE, L->i += d == '|' ? 2 : 1;
  else {
    // An fd number directly before < or > belongs to the redirection.
    size_t j = L->i;
    while (j < n && s[j] >= '0' && s[j] <= '9') j++;
    int fd = -1;
    if (j > L->i && j < n && (s[j] == '<' || s[j] == '>') && j - L->i < 4) fd = atoi(s + L->i);
    else j = L->i;
    if (s[j] != '<' && s[j] != '>') {
      lex_word(L);
      return;
    }
    char r = s[j], r2 = j + 1 < n ? s[j + 1] : 0;
    L->tok = T_REDIR;
    L->rfd = fd >= 0 ? fd : r == '<' ? 0 : 1;
    if (r == '>' && r2 == '>') L->rkind = R_APPEND, j += 2;
    else if (r2 == '&') L->rkind = R_DUP, j += 2;
    else if (r == '>' && r2 == '|') L->rkind = R_OUT, j += 2;
    else L->rkind = r == '<' ? R_IN : R_OUT, j += 1;
    L->i = j;
  }
}

static void free_program(program *p) {
  for (int a = 0; a < p->nitems; a++) {
    andor *ao = &p->items[a];
    for (int b = 0; b < ao->npipes; b++) {
      pipeline *pl = &ao->pipes[b];
      for (int c = 0; c < pl->ncmds; c++) {
        command *cmd = &pl->cmds[c];
        for (int w = 0; w < cmd->nwords; w++) free(cmd->words[w]);
        for (int r = 0; r < cmd->nredirs; r++) free(cmd->redirs[r].word);
        free(cmd->words);
        free(cmd->redirs);
      }
      free(pl->cmds);
    }
    free(ao->pipes);
    free(ao->ops);
  }
  free(p->items);
  memset(p, 0, sizeof *p);
}

typedef struct parser {
  lexer L;
  tb_stream *err;
  int failed;
} parser;

static int syntax_error(parser *P) {
  if (P->failed) return 0;
  P->failed = 1;
  if (P->L.incomplete) return 0;
  lexer *L = &P->L;
  if (L->tok == T_EOF) tb_puts(P->err, "sh: syntax error: unexpected end of file\n");
  else if (L->tok == T_AMP) tb_puts(P->err, "sh: background jobs (&) are not supported\n");
  else {
    size_t len = L->tok == T_WORD ? strlen(L->word) : L->i - L->start;
    if (L->tok == T_NEWLINE) tb_puts(P->err, "sh: syntax error: unexpected newline\n");
    else tb_printf(P->err, "sh: syntax error: unexpected '%.*s'\n", (int)len, L->s + L->start);
  }
  return 0;
}

// After | && ||: newlines may come before the next command, and at the end
// of what was read so far, more input is needed.
static void skip_newlines(parser *P) {
  while (P->L.tok == T_NEWLINE) advance(&P->L);
  if (P->L.tok == T_EOF && !P->L.final) P->L.incomplete = 1;
}

static int parse_command(parser *P, command *cmd) {
  lexer *L = &P->L;
  memset(cmd, 0, sizeof *cmd);
  for (;;) {
    if (L->tok == T_WORD) {
      PUSH(cmd->words, cmd->nwords, L->word);
      L->word = NULL;
      advance(L);
    } else if (L->tok == T_REDIR) {
      redir r = {L->rfd, L->rkind, -1, NULL};
      advance(L);
      if (L->tok != T_WORD) return syntax_error(P);
      if (r.kind == R_DUP) {
        if (strlen(L->word) != 1 || L->word[0] < '0' || L->word[0] > '2') {
          tb_printf(P->err, "sh: %s: bad file descriptor (only 0, 1 and 2 can be redirected)\n", L->word);
          P->failed = 1;
          return 0;
        }
        r.dupfd = L->word[0] - '0';
      } else {
        r.word = L->word;
        L->word = NULL;
      }
      PUSH(cmd->redirs, cmd->nredirs, r);
      advance(L);
    } else break;
  }
  if (cmd->nwords == 0 && cmd->nredirs == 0) return syntax_error(P);
  return 1;
}

static int parse_pipeline(parser *P, pipeline *pl) {
  lexer *L = &P->L;
  memset(pl, 0, sizeof *pl);
  if (L->tok == T_WORD && !strcmp(L->word, "!")) pl->negate = 1, advance(L);
  for (;;) {
    command cmd;
    int ok = parse_command(P, &cmd);
    PUSH(pl->cmds, pl->ncmds, cmd);
    if (!ok) return 0;
    if (L->tok != T_PIPE) return 1;
    advance(L);
    skip_newlines(P);
  }
}

static int parse_andor(parser *P, andor *ao) {
  lexer *L = &P->L;
  memset(ao, 0, sizeof *ao);
  int op = 0;
  for (;;) {
    pipeline pl;
    int ok = parse_pipeline(P, &pl);
    int nops = ao->npipes;
    PUSH(ao->ops, nops, op);
    PUSH(ao->pipes, ao->npipes, pl);
    if (!ok) return 0;
    if (L->tok != T_AND && L->tok != T_OR) return 1;
    op = L->tok == T_AND ? OP_AND : OP_OR;
    advance(L);
    skip_newlines(P);
  }
}

// Parses a whole text. `final`: no more input will follow it.
static int parse_program(const char *text, size_t n, int final, tb_stream *err, program *out) {
  parser P = {{text, 0, n, final, 0, T_EOF, NULL, 0, 0, 0}, err, 0};
  memset(out, 0, sizeof *out);
  advance(&P.L);
  while (!P.failed) {
    while (P.L.tok == T_NEWLINE) advance(&P.L);
    if (P.L.tok == T_EOF) break;
    andor ao;
    int ok = parse_andor(&P, &ao);
    PUSH(out->items, out->nitems, ao);
    if (!ok) break;
    if (P.L.tok == T_SEMI || P.L.tok == T_NEWLINE) advance(&P.L);
    else if (P.L.tok != T_EOF) syntax_error(&P);
  }
  free(P.L.word);
  if (P.L.incomplete && !final) {
    free_program(out);
    return PARSE_INCOMPLETE;
  }
  if (P.L.incomplete) {
    P.L.incomplete = 0, P.L.tok = T_EOF, P.failed = 0;
    syntax_error(&P);
  }
  if (P.failed) {
    free_program(out);
    return PARSE_ERROR;
  }
  return PARSE_OK;
}

// ---------------------------------------------------------------- the shell

typedef struct shell {
  tb_env vars;
  char *arg0;
  char **params;  // $1...
  int nparams;
  int status;   // $?
  int exiting;  // `exit` ran: stop
  int errexit, xtrace;
  int depth;  // of $(...) and `.` nesting
  tb_stream *in, *out, *err;
} shell;

static int run_text(shell *sh, const char *text, size_t n);

typedef struct strbuf {
  char *p;
  size_t n, cap;
} strbuf;

static void sb_add(strbuf *b, const char *p, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = tb_realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = 0;
}
static void sb_addc(strbuf *b, char c) { sb_add(b, &c, 1); }

typedef struct fields {
  char **v;
  int n;
} fields;

static void free_fields(fields *f) {
  for (int k = 0; k < f->n; k++) free(f->v[k]);
  free(f->v);
  memset(f, 0, sizeof *f);
}

// Builds the fields of one word: quotes removed, parameters expanded, and
// unquoted expansions split at blanks when `split` (command words).
typedef struct expander {
  shell *sh;
  fields *out;
  strbuf cur;
  int have;  // the current field exists even if empty ("" makes one)
  int split;
} expander;

static void field_end(expander *x) {
  if (x->cur.n || x->have) {
    PUSH(x->out->v, x->out->n, tb_strndup(x->cur.p ? x->cur.p : "", x->cur.n));
  }
  x->cur.n = 0;
  x->have = 0;
}

static void add_value(expander *x, const char *v, size_t n, int quoted) {
  if (quoted || !x->split) {
    sb_add(&x->cur, v, n);
    x->have |= quoted;
    return;
  }
  for (size_t k = 0; k < n; k++) {
    if (v[k] == ' ' || v[k] == '\t' || v[k] == '\n') field_end(x);
    else sb_addc(&x->cur, v[k]);
  }
}

static char *expand_string(shell *sh, const char *w, size_t n);
static void set_params(shell *sh, int n, char **v);

// Runs TEXT as a subshell and returns its output without trailing newlines.
static char *substitute(shell *sh, const char *text, size_t n) {
  tb_stream *mem = tb_stream_mem();
  shell sub = *sh;
  tb_env_copy(&sub.vars, &sh->vars);
  sub.params = NULL, sub.nparams = 0;
  set_params(&sub, sh->nparams, sh->params);
  sub.out = mem;
  sub.exiting = 0;
  sub.depth++;
  if (sub.depth > 64) {
    tb_puts(sh->err, "sh: $(...) nested too deeply\n");
    sub.status = 2;
  } else run_text(&sub, text, n);
  sh->status = sub.status;
  set_params(&sub, 0, NULL);
  tb_env_free(&sub.vars);
  size_t len = mem->len;
  while (len > 0 && mem->buf[len - 1] == '\n') len--;
  char *r = tb_strndup(mem->buf ? mem->buf : "", len);
  tb_stream_free(mem);
  return r;
}

static const char *param(shell *sh, const char *name, size_t n, char *tmp, size_t tmpsz) {
  if (n == 1) {
    char c = name[0];
    if (c == '?') return snprintf(tmp, tmpsz, "%d", sh->status), tmp;
    if (c == '#') return snprintf(tmp, tmpsz, "%d", sh->nparams), tmp;
    if (c == '0') return sh->arg0;
  }
  if (name[0] >= '1' && name[0] <= '9') {
    int k = atoi(name);
    return k <= sh->nparams ? sh->params[k - 1] : NULL;
  }
  char key[256];
  if (n >= sizeof key) return NULL;
  memcpy(key, name, n);
  key[n] = 0;
  return tb_getenv(&sh->vars, key);
}

static void add_params(expander *x, int quoted, int at) {
  shell *sh = x->sh;
  for (int k = 0; k < sh->nparams; k++) {
    if (k > 0) {
      if (quoted && at) x->have = 1, field_end(x);
      else add_value(x, " ", 1, quoted);
    }
    add_value(x, sh->params[k], strlen(sh->params[k]), quoted);
  }
  if (quoted && sh->nparams > 0) x->have = 1;
}

// Expands the "$..." at w[*i]; advances *i past it.
static void expand_dollar(expander *x, const char *w, size_t *i, size_t n, int quoted) {
  shell *sh = x->sh;
  size_t k = *i + 1;
  char tmp[32];
  if (k + 1 < n && w[k] == '(' && w[k + 1] == '(') {
    size_t end = scan_paren(w, k + 1, n);
    tb_printf(sh->err, "sh: %.*s: arithmetic expansion is not supported\n", (int)((end > n ? n : end) - *i), w + *i);
    *i = end > n ? n : end;
    return;
  }
  if (k < n && w[k] == '(') {
    size_t end = scan_paren(w, k + 1, n);
    if (end > n) end = n;
    char *out = substitute(sh, w + k + 1, end - k - 2 < n ? end - k - 2 : 0);
    add_value(x, out, strlen(out), quoted);
    free(out);
    *i = end;
    return;
  }
  if (k < n && w[k] == '{') {
    size_t end = scan_brace(w, k + 1, n);
    if (end > n) end = n;
    const char *body = w + k + 1;
    size_t blen = end - k - 2, nl = 0;
    if (blen > 0 && strchr("?#@*", body[0])) nl = 1;
    else
      while (nl < blen && (body[nl] == '_' || (body[nl] >= 'a' && body[nl] <= 'z') || (body[nl] >= 'A' && body[nl] <= 'Z') ||
                           (body[nl] >= '0' && body[nl] <= '9')))
        nl++;
    *i = end;
    if (nl == 1 && (body[0] == '@' || body[0] == '*') && nl == blen) {
      add_params(x, quoted, body[0] == '@');
      return;
    }
    const char *v = nl ? param(sh, body, nl, tmp, sizeof tmp) : NULL;
    const char *op = body + nl;
    size_t oplen = blen - nl;
    int colon = oplen > 0 && op[0] == ':';
    char kind = oplen > (size_t)colon ? op[colon] : 0;
    if (nl == 0 || (oplen > 0 && kind != '-' && kind != '+' && kind != '=')) {
      tb_printf(sh->err, "sh: ${%.*s}: bad substitution\n", (int)blen, body);
      return;
    }
    int set = v && (!colon || *v);
    const char *word = op + colon + 1;
    size_t wlen = oplen ? oplen - (size_t)colon - 1 : 0;
    if (kind == '-' && !set) {
      char *d = expand_string(sh, word, wlen);
      add_value(x, d, strlen(d), quoted);
      free(d);
    } else if (kind == '=' && !set) {
      char *d = expand_string(sh, word, wlen), *name = tb_strndup(body, nl);
      tb_setenv(&sh->vars, name, d, -1);
      add_value(x, d, strlen(d), quoted);
      free(d), free(name);
    } else if (kind == '+') {
      if (set) {
        char *d = expand_string(sh, word, wlen);
        add_value(x, d, strlen(d), quoted);
        free(d);
      }
    } else if (v) add_value(x, v, strlen(v), quoted);
    return;
  }
  if (k < n && (w[k] == '@' || w[k] == '*')) {
    add_params(x, quoted, w[k] == '@');
    *i = k + 1;
    return;
  }
  size_t nl = 0;
  if (k < n && (w[k] == '?' || w[k] == '#' || (w[k] >= '0' && w[k] <= '9'))) nl = 1;
  else
    while (k + nl < n && (w[k + nl] == '_' || (w[k + nl] >= 'a' && w[k + nl] <= 'z') || (w[k + nl] >= 'A' && w[k + nl] <= 'Z') ||
                          (nl > 0 && w[k + nl] >= '0' && w[k + nl] <= '9')))
      nl++;
  if (nl == 0) {  // a lone '$' is itself
    add_value(x, "$", 1, 1);
    *i = k;
    return;
  }
  const char *v = param(sh, w + k, nl, tmp, sizeof tmp);
  if (v) add_value(x, v, strlen(v), quoted);
  *i = k + nl;
}

static void expand_into(expander *x, const char *w, size_t n) {
  size_t i = 0;
  if (n > 0 && w[0] == '~' && (n == 1 || w[1] == '/')) {
    const char *home = tb_getenv(&x->sh->vars, "HOME");
    if (home) add_value(x, home, strlen(home), 1), i = 1;
  }
  while (i < n) {
    char c = w[i];
    if (c == '\\') {
      if (i + 1 < n) {
        if (w[i + 1] != '\n') add_value(x, w + i + 1, 1, 1);
        i += 2;
      } else add_value(x, "\\", 1, 1), i++;
    } else if (c == '\'') {
      const char *q = memchr(w + i + 1, '\'', n - i - 1);
      size_t end = q ? (size_t)(q - w) : n;
      add_value(x, w + i + 1, end - i - 1, 1);
      x->have = 1;
      i = end + 1;
    } else if (c == '"') {
      // "$@" with no parameters makes no field at all.
      if (n - i >= 4 && !strncmp(w + i, "\"$@\"", 4) && x->sh->nparams == 0) {
        i += 4;
        continue;
      }
      x->have = 1;
      for (i++; i < n && w[i] != '"';) {
        if (w[i] == '\\' && i + 1 < n && strchr("$`\"\\\n", w[i + 1])) {
          if (w[i + 1] != '\n') add_value(x, w + i + 1, 1, 1);
          i += 2;
        } else if (w[i] == '$') expand_dollar(x, w, &i, n, 1);
        else add_value(x, w + i, 1, 1), i++;
      }
      i++;
    } else if (c == '$') expand_dollar(x, w, &i, n, 0);
    else add_value(x, w + i, 1, 1), i++;
  }
}

static void expand_word(shell *sh, const char *w, fields *out, int split) {
  expander x = {sh, out, {0}, 0, split};
  expand_into(&x, w, strlen(w));
  field_end(&x);
  free(x.cur.p);
}

// One string, no field splitting: assignments, redirection targets, ${x:-word}.
static char *expand_string(shell *sh, const char *w, size_t n) {
  fields f = {0};
  expander x = {sh, &f, {0}, 0, 0};
  expand_into(&x, w, n);
  char *r = tb_strndup(x.cur.p ? x.cur.p : "", x.cur.n);
  free(x.cur.p);
  free_fields(&f);
  return r;
}

static size_t assignment_name(const char *w) {
  const char *eq = strchr(w, '=');
  if (!eq || !tb_valid_name(w, (size_t)(eq - w))) return 0;
  return (size_t)(eq - w);
}

// ---------------------------------------------------------------- builtins

typedef int (*builtin_fn)(shell *sh, tb_ctx *c, int argc, char **argv);

static int bi_colon(shell *sh, tb_ctx *c, int argc, char **argv) {
  (void)sh, (void)c, (void)argc, (void)argv;
  return 0;
}

static int bi_cd(shell *sh, tb_ctx *c, int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : tb_getenv(&sh->vars, "HOME");
  if (!dir || !*dir) dir = "/";
  int back = !strcmp(dir, "-");
  if (back) {
    dir = tb_getenv(&sh->vars, "OLDPWD");
    if (!dir) return tb_puts(c->err, "sh: cd: OLDPWD not set\n"), 1;
  }
  char old[PATH_MAX], now[PATH_MAX];
  if (!getcwd(old, sizeof old)) old[0] = 0;
  if (chdir(dir) != 0) {
    tb_printf(c->err, "sh: cd: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  if (getcwd(now, sizeof now)) tb_setenv(&sh->vars, "PWD", now, -1);
  if (old[0]) tb_setenv(&sh->vars, "OLDPWD", old, -1);
  if (back) tb_printf(c->out, "%s\n", now);
  return 0;
}

static int bi_export(shell *sh, tb_ctx *c, int argc, char **argv) {
  int status = 0;
  if (argc == 1 || (argc == 2 && !strcmp(argv[1], "-p"))) {
    for (size_t k = 0; k < sh->vars.n; k++)
      if (sh->vars.v[k].exported) tb_printf(c->out, "export %s='%s'\n", sh->vars.v[k].name, sh->vars.v[k].value);
    return 0;
  }
  for (int k = 1; k < argc; k++) {
    size_t nl = assignment_name(argv[k]);
    if (nl) {
      char *name = tb_strndup(argv[k], nl);
      tb_setenv(&sh->vars, name, argv[k] + nl + 1, 1);
      free(name);
    } else if (tb_valid_name(argv[k], strlen(argv[k]))) {
      const char *v = tb_getenv(&sh->vars, argv[k]);
      char *keep = tb_strdup(v ? v : "");
      tb_setenv(&sh->vars, argv[k], keep, 1);
      free(keep);
    } else {
      tb_printf(c->err, "sh: export: %s: bad variable name\n", argv[k]);
      status = 1;
    }
  }
  return status;
}

static int bi_unset(shell *sh, tb_ctx *c, int argc, char **argv) {
  (void)c;
  for (int k = 1; k < argc; k++)
    if (strcmp(argv[k], "-v")) tb_unsetenv(&sh->vars, argv[k]);
  return 0;
}

static int parse_status(tb_ctx *c, const char *what, const char *s, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < 0) {
    tb_printf(c->err, "sh: %s: Illegal number: %s\n", what, s);
    return 0;
  }
  *out = (int)(v & 255);
  return 1;
}

static int bi_exit(shell *sh, tb_ctx *c, int argc, char **argv) {
  int status = sh->status;
  if (argc > 1 && !parse_status(c, "exit", argv[1], &status)) status = 2;
  sh->exiting = 1;
  return status;
}

static void set_params(shell *sh, int n, char **v) {
  for (int k = 0; k < sh->nparams; k++) free(sh->params[k]);
  free(sh->params);
  sh->params = n ? tb_alloc(sizeof(char *) * (size_t)n) : NULL;
  for (int k = 0; k < n; k++) sh->params[k] = tb_strdup(v[k]);
  sh->nparams = n;
}

// set [-ex] [+ex] [-- ARGS...]
static int bi_set(shell *sh, tb_ctx *c, int argc, char **argv) {
  int k = 1;
  for (; k < argc && (argv[k][0] == '-' || argv[k][0] == '+') && argv[k][1]; k++) {
    if (!strcmp(argv[k], "--")) {
      k++;
      set_params(sh, argc - k, argv + k);
      return 0;
    }
    for (const char *p = argv[k] + 1; *p; p++) {
      if (*p == 'e') sh->errexit = argv[k][0] == '-';
      else if (*p == 'x') sh->xtrace = argv[k][0] == '-';
      else return tb_printf(c->err, "sh: set: -%c: unsupported option\n", *p), 2;
    }
  }
  if (k < argc) set_params(sh, argc - k, argv + k);
  return 0;
}

static int bi_shift(shell *sh, tb_ctx *c, int argc, char **argv) {
  int n = 1;
  if (argc > 1 && !parse_status(c, "shift", argv[1], &n)) return 2;
  if (n > sh->nparams) return tb_puts(c->err, "sh: shift: can't shift that many\n"), 1;
  for (int k = 0; k < n; k++) free(sh->params[k]);
  memmove(sh->params, sh->params + n, sizeof(char *) * (size_t)(sh->nparams - n));
  sh->nparams -= n;
  return 0;
}

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  strbuf b = {0};
  char *chunk = tb_alloc(65536);
  ssize_t r;
  while ((r = read(fd, chunk, 65536)) > 0) sb_add(&b, chunk, (size_t)r);
  int err = errno;
  free(chunk);
  close(fd);
  if (r < 0) {
    free(b.p);
    errno = err;
    return NULL;
  }
  *len = b.n;
  return b.p ? b.p : tb_strdup("");
}

// . FILE: runs FILE in this shell.
static int bi_dot(shell *sh, tb_ctx *c, int argc, char **argv) {
  if (argc < 2) return tb_puts(c->err, "sh: .: filename argument required\n"), 2;
  size_t n;
  char *text = read_file(argv[1], &n);
  if (!text) return tb_printf(c->err, "sh: .: %s: %s\n", argv[1], strerror(errno)), 1;
  if (++sh->depth > 64) {
    free(text);
    sh->depth--;
    return tb_puts(c->err, "sh: .: nested too deeply\n"), 2;
  }
  tb_stream *in = sh->in, *out = sh->out, *err = sh->err;
  sh->in = c->in, sh->out = c->out, sh->err = c->err;
  int status = run_text(sh, text, n);
  sh->in = in, sh->out = out, sh->err = err;
  sh->depth--;
  free(text);
  return status;
}

static builtin_fn find_builtin(const char *name) {
  static const struct {
    const char *name;
    builtin_fn fn;
  } table[] = {{":", bi_colon}, {".", bi_dot},       {"cd", bi_cd},       {"exit", bi_exit}, {"export", bi_export},
               {"set", bi_set}, {"shift", bi_shift}, {"source", bi_dot}, {"unset", bi_unset}};
  for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
    if (!strcmp(table[k].name, name)) return table[k].fn;
  return NULL;
}

// ---------------------------------------------------------------- execution

static int open_redirect(const char *path, int kind) {
  int flags = kind == R_IN ? O_RDONLY : kind == R_APPEND ? O_WRONLY | O_CREAT | O_APPEND : O_WRONLY | O_CREAT | O_TRUNC;
  return open(path, flags, 0666);
}

static void trace(tb_stream *err, fields *argv) {
  tb_puts(err, "+");
  for (int k = 0; k < argv->n; k++) tb_printf(err, " %s", argv->v[k]);
  tb_puts(err, "\n");
}

// Runs one simple command with its redirections applied to in/out/err.
static int run_command(shell *sh, command *cmd, tb_stream *in, tb_stream *out, tb_stream *err) {
  int nassign = 0;
  while (nassign < cmd->nwords && assignment_name(cmd->words[nassign])) nassign++;
  fields argv = {0};
  for (int k = nassign; k < cmd->nwords; k++) expand_word(sh, cmd->words[k], &argv, 1);

  tb_stream *cur[3] = {in, out, err}, *opened[16];
  int nopened = 0, status = 0;
  for (int k = 0; k < cmd->nredirs; k++) {
    redir *r = &cmd->redirs[k];
    if (r->fd > 2) {
      tb_printf(err, "sh: %d: bad file descriptor (only 0, 1 and 2 can be redirected)\n", r->fd);
      status = 1;
      goto done;
    }
    if (r->kind == R_DUP) {
      cur[r->fd] = cur[r->dupfd];
      continue;
    }
    char *path = expand_string(sh, r->word, strlen(r->word));
    int fd = open_redirect(path, r->kind);
    if (fd < 0 || nopened == (int)(sizeof opened / sizeof opened[0])) {
      tb_printf(err, "sh: %s: %s\n", path, fd < 0 ? strerror(errno) : "too many redirections");
      if (fd >= 0) close(fd);
      free(path);
      status = 1;
      goto done;
    }
    free(path);
    cur[r->fd] = opened[nopened++] = tb_stream_fd(fd, 0);
  }

  if (argv.n == 0) {
    for (int k = 0; k < nassign; k++) {
      size_t nl = assignment_name(cmd->words[k]);
      char *name = tb_strndup(cmd->words[k], nl), *value = expand_string(sh, cmd->words[k] + nl + 1, strlen(cmd->words[k] + nl + 1));
      tb_setenv(&sh->vars, name, value, -1);
      free(name), free(value);
    }
    goto done;
  }
  if (sh->xtrace) trace(cur[2], &argv);
  PUSH(argv.v, argv.n, NULL);
  argv.n--;
  const char *name = argv.v[0];
  builtin_fn bi = find_builtin(name);
  tb_applet_fn fn = bi ? NULL : tb_find_applet(tb_basename(name));
  if (!bi && fn && strchr(name, '/')) {
    // A path names an applet only where a file is there (a link to the toolbox).
    struct stat st;
    if (stat(name, &st) != 0) fn = NULL;
  }
  if (!bi && !fn) {
    struct stat st;
    if (strchr(name, '/') && stat(name, &st) == 0) {
      tb_printf(cur[2], "sh: %s: cannot run it: this shell runs only the toolbox's applets (WASI has no exec)\n", name);
      status = 126;
    } else {
      tb_printf(cur[2], "sh: %s: not found\n", name);
      status = 127;
    }
    goto done;
  }
  // NAME=value before a command: in its environment only (builtins: kept).
  tb_env scoped, *env = &sh->vars;
  if (nassign && !bi) tb_env_copy(&scoped, &sh->vars), env = &scoped;
  for (int k = 0; k < nassign; k++) {
    size_t nl = assignment_name(cmd->words[k]);
    char *vname = tb_strndup(cmd->words[k], nl), *value = expand_string(sh, cmd->words[k] + nl + 1, strlen(cmd->words[k] + nl + 1));
    tb_setenv(env, vname, value, 1);
    free(vname), free(value);
  }
  tb_ctx c = {cur[0], cur[1], cur[2], env};
  status = bi ? bi(sh, &c, argv.n, argv.v) : fn(&c, argv.n, argv.v);
  if (env != &sh->vars) tb_env_free(&scoped);

done:
  tb_flush(cur[1]);
  tb_flush(cur[2]);
  for (int k = 0; k < nopened; k++) {
    int fd = opened[k]->fd;
    tb_stream_free(opened[k]);
    close(fd);
  }
  free_fields(&argv);
  return status;
}

// Runs a pipeline's commands in turn, each reading what the last one wrote.
static int run_pipeline(shell *sh, pipeline *pl) {
  tb_stream *in = sh->in;
  int status = 0;
  for (int k = 0; k < pl->ncmds && !sh->exiting; k++) {
    int last = k == pl->ncmds - 1;
    tb_stream *out = last ? sh->out : tb_stream_mem();
    status = run_command(sh, &pl->cmds[k], in, out, sh->err);
    // In a real pipeline every command is a subshell: `exit` ends only it.
    if (pl->ncmds > 1) sh->exiting = 0;
    if (in != sh->in) tb_stream_free(in);
    in = out;
  }
  return pl->negate ? !status : status;
}

static int run_andor(shell *sh, andor *ao) {
  int status = run_pipeline(sh, &ao->pipes[0]), ran = 0;
  sh->status = status;
  for (int k = 1; k < ao->npipes && !sh->exiting; k++) {
    if ((ao->ops[k] == OP_AND) != (status == 0)) continue;
    status = run_pipeline(sh, &ao->pipes[k]);
    sh->status = status;
    ran = k;
  }
  // set -e: a failure that no && or || tested ends the shell.
  if (sh->errexit && status != 0 && ran == ao->npipes - 1 && !ao->pipes[ran].negate) sh->exiting = 1;
  return status;
}

static int run_program(shell *sh, program *p) {
  for (int k = 0; k < p->nitems && !sh->exiting; k++) run_andor(sh, &p->items[k]);
  return sh->status;
}

static int run_text(shell *sh, const char *text, size_t n) {
  program p;
  if (parse_program(text, n, 1, sh->err, &p) != PARSE_OK) return sh->status = 2;
  run_program(sh, &p);
  free_program(&p);
  return sh->status;
}

// Reads commands a line at a time, running each as soon as it is complete.
static int run_lines(shell *sh) {
  int interactive = sh->in->fd == 0 && isatty(0);
  strbuf pending = {0};
  char *line = NULL;
  size_t cap = 0;
  for (;;) {
    if (interactive) tb_puts(sh->err, pending.n ? "> " : "$ ");
    ssize_t r = tb_getline(sh->in, &line, &cap);
    if (r <= 0) break;
    sb_add(&pending, line, (size_t)r);
    program p;
    int parsed = parse_program(pending.p, pending.n, 0, sh->err, &p);
    if (parsed == PARSE_INCOMPLETE) continue;
    pending.n = 0;
    if (parsed == PARSE_ERROR) {
      sh->status = 2;
      if (!interactive) break;
      continue;
    }
    run_program(sh, &p);
    free_program(&p);
    tb_flush(sh->out);
    if (sh->exiting) break;
  }
  if (pending.n && !sh->exiting) run_text(sh, pending.p, pending.n);
  free(line);
  free(pending.p);
  return sh->status;
}

// sh [-ex] [-c COMMANDS [NAME [ARGS...]] | SCRIPT [ARGS...]]; with neither,
// commands come from the input.
int applet_sh(tb_ctx *c, int argc, char **argv) {
  shell sh;
  memset(&sh, 0, sizeof sh);
  // A new shell inherits only exported variables.
  for (size_t k = 0; k < c->env->n; k++)
    if (c->env->v[k].exported) tb_setenv(&sh.vars, c->env->v[k].name, c->env->v[k].value, 1);
  sh.in = c->in, sh.out = c->out, sh.err = c->err;
  sh.arg0 = argc > 0 ? argv[0] : "sh";
  const char *command = NULL;
  int i = 1;
  for (; i < argc && (argv[i][0] == '-' || argv[i][0] == '+') && argv[i][1]; i++) {
    if (!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    for (const char *p = argv[i] + 1; *p; p++) {
      if (*p == 'c') command = "";
      else if (*p == 'e') sh.errexit = argv[i][0] == '-';
      else if (*p == 'x') sh.xtrace = argv[i][0] == '-';
      else if (*p != 's' && *p != 'i') {
        tb_printf(c->err, "sh: -%c: unsupported option\n", *p);
        tb_env_free(&sh.vars);
        return 2;
      }
    }
  }
  int status;
  if (command) {
    if (i >= argc) {
      tb_puts(c->err, "sh: -c requires an argument\n");
      tb_env_free(&sh.vars);
      return 2;
    }
    command = argv[i++];
    if (i < argc) sh.arg0 = argv[i++];
    set_params(&sh, argc - i, argv + i);
    status = run_text(&sh, command, strlen(command));
  } else if (i < argc) {
    size_t n;
    char *text = read_file(argv[i], &n);
    if (!text) {
      tb_printf(c->err, "sh: cannot open %s: %s\n", argv[i], strerror(errno));
      tb_env_free(&sh.vars);
      return 127;
    }
    sh.arg0 = argv[i++];
    set_params(&sh, argc - i, argv + i);
    status = run_text(&sh, text, n);
    free(text);
  } else {
    status = run_lines(&sh);
  }
  set_params(&sh, 0, NULL);
  tb_env_free(&sh.vars);
  return status;
}
