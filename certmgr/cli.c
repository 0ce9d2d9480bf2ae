/*
 * certmgr: option, message, passphrase, prompt and JSON helpers shared by
 * the subcommands.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "err.h"
#include "parse.h"

void
cm_error(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	fputs("certmgr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cm_warn(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	fputs("certmgr: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cm_info(const struct cli *cli, const char *fmt, ...)
{
	va_list	 ap;

	if (cli->quiet || cli->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int
cm_days(const char *arg, unsigned def, unsigned max, const char *what,
    unsigned *out)
{
	unsigned long	 v;

	*out = def;
	if (arg == NULL)
		return 0;
	if (parse_uint(arg, 1, 1000000, &v) != 0) {
		cm_error("--days \"%.20s\": expected a number of days", arg);
		return -1;
	}
	if (v > max) {
		cm_error("--days %lu is refused: %s are valid 1 to %u days",
		    v, what, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int
cm_name_files(const struct cli *cli, const char *name, unsigned need)
{
	char	 err[CS_ERR_MAX];
	int	 has;

	if ((has = cs_files(cli->dir, name, err, sizeof(err))) < 0) {
		cm_error("%s", err);
		return -1;
	}
	if (has == 0 || ((unsigned)has & need) != need) {
		if (need & CS_HAS_CRT)
			cm_error("%s/%s.crt: no such certificate (certmgr list "
			    "shows them)", cli->dir, name);
		else
			cm_error("%s/%s: no such certificate name (certmgr "
			    "list shows them)", cli->dir, name);
		return -1;
	}
	return has;
}

int
cm_ensure_dir(const struct cli *cli, const char *dir)
{
	struct stat	 st;
	char		 p[FTPS_PATH_MAX], *s;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		cm_error("%s: not a directory", dir);
		return -1;
	}
	if (errno != ENOENT) {
		cm_error("%s: %s", dir, strerror(errno));
		return -1;
	}
	/* Like mkdir -p; only the folder itself gets 0700. */
	if (strlen(dir) >= sizeof(p)) {
		cm_error("%s: path too long", dir);
		return -1;
	}
	snprintf(p, sizeof(p), "%s", dir);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			cm_error("%s: cannot create the folder: %s", p,
			    strerror(errno));
			return -1;
		}
		*s = '/';
	}
	if (mkdir(dir, 0700) == -1) {
		cm_error("%s: cannot create the folder: %s", dir,
		    strerror(errno));
		return -1;
	}
	cm_info(cli, "created folder %s (mode 0700)", dir);
	return 0;
}

/* One line from fd, byte by byte so that nothing after it is consumed. */
static int
cm_read_line(int fd, char *buf, size_t size)
{
	size_t	 n = 0;
	ssize_t	 got;
	char	 c;

	for (;;) {
		got = read(fd, &c, 1);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		if (got == 0 || c == '\n')
			break;
		if (n + 1 >= size) {
			errno = EMSGSIZE;
			return -1;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

static void
tty_puts(int fd, const char *s)
{
	size_t	 n = strlen(s);
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Prompts on /dev/tty without echo. */
static int
cm_tty_pass(const char *prompt, char *buf, size_t size)
{
	struct termios	 old, noecho;
	int		 fd, n, e;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return -2;
	if (tcgetattr(fd, &old) == -1) {
		close(fd);
		return -2;
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	tty_puts(fd, prompt);
	(void)tcsetattr(fd, TCSAFLUSH, &noecho);
	n = cm_read_line(fd, buf, size);
	e = errno;
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	tty_puts(fd, "\n");
	close(fd);
	errno = e;
	return n;
}

static int	 cm_pass_cb(void *, const char *, int, char *, size_t);

int
cm_pass_init(struct cm_pass *p, const char *spec, const char *opt,
    int newpass)
{
	unsigned long	 fd;

	memset(p, 0, sizeof(*p));
	p->spec = spec;
	p->opt = opt;
	p->newpass = newpass;
	p->len = -1;
	p->cs.arg = p;
	p->cs.get = cm_pass_cb;
	if (spec == NULL || strcmp(spec, "prompt") == 0 ||
	    strcmp(spec, "stdin") == 0 || strncmp(spec, "file:", 5) == 0)
		return 0;
	if (strncmp(spec, "fd:", 3) == 0) {
		if (parse_uint(spec + 3, 0, 65535, &fd) != 0) {
			cm_error("%s fd:N needs a file descriptor number", opt);
			return CM_USAGE;
		}
		return 0;
	}
	/* SECURITY: argv is readable by every local user (ps, /proc). */
	if (strncmp(spec, "pass:", 5) == 0 || strncmp(spec, "env:", 4) == 0) {
		cm_error("%s %.5s... is refused: a passphrase in the command "
		    "line or environment is visible to other users; use "
		    "file:PATH, fd:N, stdin or the prompt", opt, spec);
		return CM_USAGE;
	}
	cm_error("%s: unknown passphrase source (use file:PATH, fd:N, stdin "
	    "or prompt)", opt);
	return CM_USAGE;
}

static void	 pass_fail(struct cm_pass *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
pass_fail(struct cm_pass *p, const char *fmt, ...)
{
	va_list	 ap;

	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

const char *
cm_pass_err(const struct cm_pass *p, const char *err)
{
	return p != NULL && p->failed ? p->why : err;
}

static int
cm_pass_fetch(struct cm_pass *p, const char *what)
{
	char		 prompt[FTPS_PATH_MAX + 64], again[CS_PASS_MAX];
	unsigned long	 fdn;
	int		 fd, n, m;

	if (p->len >= 0)
		return p->len;
	if (p->failed)
		return -1;
	if (p->spec != NULL && strncmp(p->spec, "file:", 5) == 0) {
		if ((fd = open(p->spec + 5, O_RDONLY | O_CLOEXEC)) == -1) {
			pass_fail(p, "%s: %s", p->spec + 5, strerror(errno));
			return -1;
		}
		n = cm_read_line(fd, p->buf, sizeof(p->buf));
		close(fd);
	} else if (p->spec != NULL && (strncmp(p->spec, "fd:", 3) == 0 ||
	    strcmp(p->spec, "stdin") == 0)) {
		fdn = 0;
		if (strcmp(p->spec, "stdin") != 0)
			(void)parse_uint(p->spec + 3, 0, 65535, &fdn);
		n = cm_read_line((int)fdn, p->buf, sizeof(p->buf));
	} else {
		snprintf(prompt, sizeof(prompt), "%s for %s: ", p->newpass ?
		    "New passphrase" : "Passphrase", what);
		n = cm_tty_pass(prompt, p->buf, sizeof(p->buf));
		if (n == -2) {
			pass_fail(p, "%s: a passphrase is needed and there is no "
			    "terminal to ask it on: use %s file:PATH, fd:N or "
			    "stdin", what, p->opt);
			return -1;
		}
		if (n >= 0 && p->newpass) {
			snprintf(prompt, sizeof(prompt), "Again, for %s: ",
			    what);
			m = cm_tty_pass(prompt, again, sizeof(again));
			if (m != n || memcmp(again, p->buf, (size_t)n) != 0) {
				OPENSSL_cleanse(again, sizeof(again));
				OPENSSL_cleanse(p->buf, sizeof(p->buf));
				pass_fail(p, "%s: the two passphrases differ",
				    what);
				return -1;
			}
			OPENSSL_cleanse(again, sizeof(again));
		}
	}
	if (n < 0) {
		pass_fail(p, "%s %s: cannot read the passphrase: %s", p->opt,
		    p->spec ? p->spec : "prompt", strerror(errno));
		OPENSSL_cleanse(p->buf, sizeof(p->buf));
		return -1;
	}
	if (p->newpass && n < 4) {
		OPENSSL_cleanse(p->buf, sizeof(p->buf));
		pass_fail(p, "%s: the new passphrase must have at least 4 "
		    "characters", what);
		return -1;
	}
	p->len = n;
	return n;
}

/* The cs_pass callback. */
static int
cm_pass_cb(void *arg, const char *what, int verify, char *buf, size_t size)
{
	struct cm_pass	*p = arg;
	int		 n;

	if ((n = cm_pass_fetch(p, what)) < 0 || (size_t)n >= size)
		return -1;
	memcpy(buf, p->buf, (size_t)n + 1);
	return n;
}

int
cm_pass_read(struct cm_pass *p, const char *what)
{
	if (cm_pass_fetch(p, what) < 0) {
		cm_error("%s", p->why);
		return -1;
	}
	return 0;
}

void
cm_pass_clear(struct cm_pass *p)
{
	OPENSSL_cleanse(p->buf, sizeof(p->buf));
	p->len = -1;
}

int
cm_confirm(const char *question)
{
	char	 ans[16];
	int	 fd, n;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return 0;
	tty_puts(fd, question);
	tty_puts(fd, " [y/N] ");
	n = cm_read_line(fd, ans, sizeof(ans));
	close(fd);
	return n > 0 && (ans[0] == 'y' || ans[0] == 'Y');
}

static void
jw_escaped(const char *s)
{
	const unsigned char	*p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
jw_key(struct jw *w, const char *key)
{
	if (w->count[w->depth]++ > 0)
		putchar(',');
	if (key != NULL) {
		jw_escaped(key);
		putchar(':');
	}
}

void
jw_open(struct jw *w, const char *key, char bracket)
{
	if (w->depth > 0)
		jw_key(w, key);
	putchar(bracket);
	if (w->depth < 15)
		w->count[++w->depth] = 0;
}

void
jw_close(struct jw *w, char bracket)
{
	putchar(bracket);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0)
		putchar('\n');
}

void
jw_str(struct jw *w, const char *key, const char *value)
{
	jw_key(w, key);
	if (value == NULL)
		fputs("null", stdout);
	else
		jw_escaped(value);
}

void
jw_int(struct jw *w, const char *key, long value)
{
	jw_key(w, key);
	printf("%ld", value);
}

void
jw_bool(struct jw *w, const char *key, int value)
{
	jw_key(w, key);
	fputs(value ? "true" : "false", stdout);
}

int
cm_basename(const char *path, char *out, size_t size)
{
	static const char *const exts[] = {
		".crt", ".cer", ".pem", ".der", ".p12", ".pfx", ".key",
		".csr", ".req", ".chain", ".cert",
	};
	const char	*b = strrchr(path, '/');
	size_t		 n, e, i;

	b = b != NULL ? b + 1 : path;
	n = strlen(b);
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(b + n - e, exts[i]) == 0) {
			n -= e;
			break;
		}
	}
	if (n >= size)
		return FTPS_ETOOBIG;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}
