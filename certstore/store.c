/*
 * libcertstore: the certs folder itself (names, default mark, pair
 * loading, listing, atomic writes, rename and delete).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "certstore.h"
#include "csx509.h"
#include "err.h"
#include "parse.h"

static const char *const cs_exts[] = { ".crt", ".key", ".chain", ".csr" };
static const unsigned cs_ext_has[] = {
	CS_HAS_CRT, CS_HAS_KEY, CS_HAS_CHAIN, CS_HAS_CSR
};
#define CS_NEXT	(sizeof(cs_exts) / sizeof(cs_exts[0]))

int
cs_err(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

int
cs_err_ssl(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list		 ap;
	unsigned long	 e;
	const char	*why;
	size_t		 n;

	e = ERR_peek_last_error();
	ERR_clear_error();
	if (err == NULL || errlen == 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (e != 0 && (why = ERR_reason_error_string(e)) != NULL) {
		n = strlen(err);
		snprintf(err + n, errlen - n, " (%s)", why);
	}
	return r;
}

int
cs_name_check(const char *name, char *err, size_t errlen)
{
	size_t	 i, n;
	char	 c;

	n = strlen(name);
	if (n == 0)
		return cs_err(err, errlen, FTPS_EPARSE,
		    "empty certificate name");
	if (n > FTPS_CERTNAME_MAX)
		return cs_err(err, errlen, FTPS_EPARSE,
		    "certificate name longer than %d characters",
		    FTPS_CERTNAME_MAX);
	for (i = 0; i < n; i++) {
		c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return cs_err(err, errlen, FTPS_EPARSE,
		    "certificate name \"%.*s\" must start with a letter or "
		    "digit and hold only letters, digits, '.', '_' and '-'",
		    FTPS_CERTNAME_MAX, name);
	}
	if (strstr(name, "..") != NULL)
		return cs_err(err, errlen, FTPS_EPARSE,
		    "certificate name \"%s\" must not contain \"..\"", name);
	return 0;
}

void
cs_data_free(unsigned char *data, size_t len)
{
	if (data == NULL)
		return;
	OPENSSL_cleanse(data, len);
	free(data);
}

/* Reads the open fd whole, at most max bytes; label names it in err. */
static int
cs_read_fd(int fd, const char *label, size_t max, unsigned char **data,
    size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*p = NULL;
	size_t		 cap, n = 0;
	ssize_t		 got;

	if (fstat(fd, &st) == -1)
		return cs_err(err, errlen, FTPS_ESYS, "%s: %s", label,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cs_err(err, errlen, FTPS_EPARSE,
		    "%s: not a regular file", label);
	if ((unsigned long long)st.st_size > max)
		return cs_err(err, errlen, FTPS_ETOOBIG,
		    "%s: larger than %zu bytes", label, max);
	cap = (size_t)st.st_size + 1;
	if ((p = malloc(cap)) == NULL)
		return cs_err(err, errlen, FTPS_ENOMEM, "%s: out of memory",
		    label);
	/* The size may change under us: never read past cap - 1. */
	for (;;) {
		got = read(fd, p + n, cap - 1 - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			int	 e = errno;

			cs_data_free(p, cap);
			errno = e;
			return cs_err(err, errlen, FTPS_ESYS, "%s: %s", label,
			    strerror(e));
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap - 1)
			break;
	}
	p[n] = '\0';
	*data = p;
	*len = n;
	return 0;
}

int
cs_read_file(const char *path, unsigned char **data, size_t *len, char *err,
    size_t errlen)
{
	return cs_read_at(AT_FDCWD, NULL, path, data, len, err, errlen);
}

int
cs_read_at(int dirfd, const char *label, const char *fname,
    unsigned char **data, size_t *len, char *err, size_t errlen)
{
	return cs_read_at_max(dirfd, label, fname, CS_FILE_MAX, data, len,
	    err, errlen);
}

int
cs_read_at_max(int dirfd, const char *label, const char *fname, size_t max,
    unsigned char **data, size_t *len, char *err, size_t errlen)
{
	char	 lab[FTPS_PATH_MAX];
	int	 fd, r, e;

	*data = NULL;
	*len = 0;
	if (label != NULL)
		snprintf(lab, sizeof(lab), "%s/%s", label, fname);
	else
		snprintf(lab, sizeof(lab), "%s", fname);
	if ((fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		e = errno;
		r = cs_err(err, errlen, e == ENOENT ? FTPS_ENOENT : FTPS_ESYS,
		    "%s: %s", lab, strerror(e));
		errno = e;
		return r;
	}
	r = cs_read_fd(fd, lab, max, data, len, err, errlen);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/*
 * SECURITY: the whole public key is compared (EVP_PKEY_eq), not a
 * fingerprint or a name: a certificate paired with another key would
 * fail every handshake, or serve a key the certificate does not vouch
 * for.
 */
int
cs_pair_matches(X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY	*pub;

	if (cert == NULL || key == NULL ||
	    (pub = X509_get0_pubkey(cert)) == NULL)
		return 0;
	return EVP_PKEY_eq(pub, key) == 1;
}

static int
cs_opendir(const char *dir, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return cs_err(err, errlen, errno == ENOENT ? FTPS_ENOENT :
		    FTPS_ESYS, "%s: %s", dir, strerror(errno));
	return fd;
}

/* Which extension fname has, or -1; base receives NAME. */
static int
cs_split(const char *fname, char *base, size_t size)
{
	size_t	 i, n, e;

	n = strlen(fname);
	for (i = 0; i < CS_NEXT; i++) {
		e = strlen(cs_exts[i]);
		if (n <= e || strcmp(fname + n - e, cs_exts[i]) != 0)
			continue;
		if (n - e >= size)
			return -1;
		memcpy(base, fname, n - e);
		base[n - e] = '\0';
		if (cs_name_check(base, NULL, 0) != 0)
			return -1;
		return (int)i;
	}
	return -1;
}

static int
cs_entry_cmp(const void *a, const void *b)
{
	const struct cs_entry	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Only regular files (or symlinks to them) count as a pair's files. */
static int
cs_isfile(int dirfd, const char *fname)
{
	struct stat	 st;

	return fstatat(dirfd, fname, &st, 0) == 0 && S_ISREG(st.st_mode);
}

static int
cs_scan(int dirfd, const char *label, struct cs_entry **ents, size_t *nents,
    char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	struct cs_entry	*v = NULL, *nv;
	char		 base[FTPS_CERTNAME_MAX + 1];
	size_t		 n = 0, cap = 0, i;
	int		 fd, x, r = 0;

	*ents = NULL;
	*nents = 0;
	if ((fd = dup(dirfd)) == -1)
		return cs_err(err, errlen, FTPS_ESYS, "%s: %s", label,
		    strerror(errno));
	if (lseek(fd, 0, SEEK_SET) == -1 || (d = fdopendir(fd)) == NULL) {
		r = cs_err(err, errlen, FTPS_ESYS, "%s: %s", label,
		    strerror(errno));
		close(fd);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if ((x = cs_split(de->d_name, base, sizeof(base))) < 0)
			continue;
		if (!cs_isfile(dirfd, de->d_name))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(v[i].name, base) == 0)
				break;
		if (i == n) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				if ((nv = reallocarray(v, cap,
				    sizeof(*v))) == NULL) {
					r = cs_err(err, errlen, FTPS_ENOMEM,
					    "%s: out of memory", label);
					goto out;
				}
				v = nv;
			}
			memcpy(v[n].name, base, sizeof(base));
			v[n].has = 0;
			n++;
		}
		v[i].has |= cs_ext_has[x];
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cs_entry_cmp);
	*ents = v;
	*nents = n;
	v = NULL;
 out:
	free(v);
	closedir(d);
	return r;
}

int
cs_list(const char *dir, struct cs_entry **ents, size_t *n, char *err,
    size_t errlen)
{
	int	 fd, r;

	*ents = NULL;
	*n = 0;
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;
	r = cs_scan(fd, dir, ents, n, err, errlen);
	close(fd);
	return r;
}

int
cs_files(const char *dir, const char *name, char *err, size_t errlen)
{
	char		 fname[FTPS_NAME_MAX + 1];
	unsigned	 has = 0;
	size_t		 i;
	int		 fd, r;

	if ((r = cs_name_check(name, err, errlen)) != 0)
		return r;
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;
	for (i = 0; i < CS_NEXT; i++) {
		snprintf(fname, sizeof(fname), "%s%s", name, cs_exts[i]);
		if (cs_isfile(fd, fname))
			has |= cs_ext_has[i];
	}
	close(fd);
	return (int)has;
}

/* The mark alone: "" when there is none. */
static int
cs_read_mark(int dirfd, const char *dir, char *name, size_t len, char *err,
    size_t errlen)
{
	unsigned char	*data;
	size_t		 n;
	char		*s;
	int		 r;

	if (len > 0)
		name[0] = '\0';
	r = cs_read_at(dirfd, dir, CS_DEFAULT_FILE, &data, &n, err, errlen);
	if (r == FTPS_ENOENT)
		return 0;
	if (r != 0)
		return r;
	s = str_trim((char *)data);
	if (strlen(s) != strcspn(s, "\r\n") ||
	    cs_name_check(s, NULL, 0) != 0)
		r = cs_err(err, errlen, FTPS_EPARSE,
		    "%s/%s: does not hold one valid certificate name",
		    dir, CS_DEFAULT_FILE);
	else if (str_copy(name, len, s) != 0)
		r = cs_err(err, errlen, FTPS_ETOOBIG,
		    "%s/%s: name too long", dir, CS_DEFAULT_FILE);
	cs_data_free(data, n);
	return r;
}

int
cs_marked_default(const char *dir, char *name, size_t len, char *err,
    size_t errlen)
{
	int	 fd, r;

	if (len > 0)
		name[0] = '\0';
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;
	r = cs_read_mark(fd, dir, name, len, err, errlen);
	close(fd);
	return r;
}

int
cs_default_name(const char *dir, char *name, size_t len, char *err,
    size_t errlen)
{
	struct cs_entry	*ents = NULL;
	size_t		 n = 0, i, pairs = 0, pick = 0;
	int		 fd, r;

	if (len > 0)
		name[0] = '\0';
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;
	if ((r = cs_read_mark(fd, dir, name, len, err, errlen)) != 0 ||
	    name[0] != '\0')
		goto out;
	if ((r = cs_scan(fd, dir, &ents, &n, err, errlen)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((ents[i].has & (CS_HAS_CRT | CS_HAS_KEY)) ==
		    (CS_HAS_CRT | CS_HAS_KEY)) {
			pairs++;
			pick = i;
		}
	if (pairs == 1)
		r = str_copy(name, len, ents[pick].name) == 0 ? 0 :
		    cs_err(err, errlen, FTPS_ETOOBIG, "%s: name too long",
		    dir);
	else if (pairs == 0)
		r = cs_err(err, errlen, FTPS_ENOENT,
		    "%s: no certificate pair (NAME.crt + NAME.key) in the "
		    "folder", dir);
	else
		r = cs_err(err, errlen, FTPS_ENOENT,
		    "%s: %zu certificate pairs and no default marked in %s "
		    "(certmgr default NAME)", dir, pairs, CS_DEFAULT_FILE);
 out:
	free(ents);
	close(fd);
	return r;
}

/* The one decoded certificate file of a pair: leaf first, then chain. */
static int
cs_load_certs(int dirfd, const char *dir, const char *fname,
    STACK_OF(X509) **certs, char *err, size_t errlen)
{
	struct cs_bundle	 b;
	unsigned char		*data;
	size_t			 len;
	char			 lab[FTPS_PATH_MAX];
	int			 r;

	*certs = NULL;
	memset(&b, 0, sizeof(b));
	if ((r = cs_read_at(dirfd, dir, fname, &data, &len, err,
	    errlen)) != 0)
		return r;
	snprintf(lab, sizeof(lab), "%s/%s", dir, fname);
	r = cs_decode(lab, data, len, NULL, &b, err, errlen);
	cs_data_free(data, len);
	if (r != 0)
		goto out;
	if (b.key != NULL || b.csr != NULL)
		r = cs_err(err, errlen, FTPS_EPARSE, "%s: holds a %s, "
		    "certificates expected", lab,
		    b.key != NULL ? "private key" : "certificate request");
	else if (sk_X509_num(b.certs) == 0)
		r = cs_err(err, errlen, FTPS_EPARSE,
		    "%s: holds no certificate", lab);
	else {
		*certs = b.certs;
		b.certs = NULL;
	}
 out:
	cs_bundle_free(&b);
	return r;
}

static void
cs_fmt_time(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm	 tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, size, "(unreadable date)");
}

int
cs_load_pair(const char *dir, const char *name, X509 **cert, EVP_PKEY **key,
    STACK_OF(X509) **chain, char *err, size_t errlen)
{
	STACK_OF(X509)		*certs = NULL, *more = NULL;
	struct cs_bundle	 kb;
	X509			*x;
	unsigned char		*data = NULL;
	size_t			 len = 0;
	char			 nm[FTPS_CERTNAME_MAX + 1];
	char			 fname[FTPS_NAME_MAX + 1];
	char			 lab[FTPS_PATH_MAX], when[64];
	int			 fd = -1, r;

	*cert = NULL;
	*key = NULL;
	*chain = NULL;
	memset(&kb, 0, sizeof(kb));
	if (name == NULL) {
		if ((r = cs_default_name(dir, nm, sizeof(nm), err,
		    errlen)) != 0)
			return r;
		name = nm;
	} else if ((r = cs_name_check(name, err, errlen)) != 0)
		return r;
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;

	/* 1. The certificate, and whatever chain follows it in the file. */
	snprintf(fname, sizeof(fname), "%s.crt", name);
	if ((r = cs_load_certs(fd, dir, fname, &certs, err, errlen)) != 0)
		goto out;
	x = sk_X509_value(certs, 0);
	snprintf(lab, sizeof(lab), "%s/%s", dir, fname);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		cs_fmt_time(X509_get0_notAfter(x), when, sizeof(when));
		r = cs_err(err, errlen, FTPS_EDENIED,
		    "%s: certificate expired on %s", lab, when);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
		cs_fmt_time(X509_get0_notBefore(x), when, sizeof(when));
		r = cs_err(err, errlen, FTPS_EDENIED,
		    "%s: certificate not valid before %s", lab, when);
		goto out;
	}

	/* 2. The key: unencrypted, since a daemon cannot be asked. */
	snprintf(fname, sizeof(fname), "%s.key", name);
	snprintf(lab, sizeof(lab), "%s/%s", dir, fname);
	if ((r = cs_read_at(fd, dir, fname, &data, &len, err, errlen)) != 0)
		goto out;
	r = cs_decode(lab, data, len, NULL, &kb, err, errlen);
	if (r == FTPS_EDENIED && kb.encrypted) {
		r = cs_err(err, errlen, FTPS_EDENIED, "%s: the private key "
		    "is encrypted; the server needs it unencrypted (mode "
		    "0600): re-import it with certmgr import", lab);
		goto out;
	}
	if (r != 0)
		goto out;
	if (kb.key == NULL) {
		r = cs_err(err, errlen, FTPS_EPARSE,
		    "%s: holds no private key", lab);
		goto out;
	}
	if (!cs_pair_matches(x, kb.key)) {
		r = cs_err(err, errlen, FTPS_EDENIED, "%s: the private key "
		    "does not match the certificate %s/%s.crt", lab, dir,
		    name);
		goto out;
	}
	/* Named here rather than as a handshake failure later. */
	if ((r = cs_key_check(kb.key, lab, err, errlen)) != 0)
		goto out;

	/* 3. The chain file, when there is one. */
	snprintf(fname, sizeof(fname), "%s.chain", name);
	r = cs_load_certs(fd, dir, fname, &more, err, errlen);
	if (r == FTPS_ENOENT)
		r = 0;
	else if (r != 0)
		goto out;
	while (more != NULL && sk_X509_num(more) > 0) {
		if (sk_X509_num(certs) > CS_CHAIN_MAX) {
			r = cs_err(err, errlen, FTPS_ETOOBIG,
			    "%s/%s.chain: more than %d certificates", dir,
			    name, CS_CHAIN_MAX);
			goto out;
		}
		if (!sk_X509_push(certs, sk_X509_value(more, 0))) {
			r = cs_err(err, errlen, FTPS_ENOMEM,
			    "%s: out of memory", dir);
			goto out;
		}
		(void)sk_X509_shift(more);
	}

	*cert = sk_X509_shift(certs);
	*key = kb.key;
	kb.key = NULL;
	if (sk_X509_num(certs) > 0) {
		*chain = certs;
		certs = NULL;
	}
 out:
	cs_data_free(data, len);
	cs_bundle_free(&kb);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(more, X509_free);
	if (fd >= 0)
		close(fd);
	return r;
}

int
cs_txn_begin(struct cs_txn *t, const char *dir, char *err, size_t errlen)
{
	struct stat	 st;

	memset(t, 0, sizeof(*t));
	t->label = dir;
	if ((t->dirfd = cs_opendir(dir, err, errlen)) < 0) {
		int	 r = t->dirfd;

		t->dirfd = -1;
		return r;
	}
	/* Root writing into the service's folder writes for the service. */
	if (geteuid() == 0 && fstat(t->dirfd, &st) == 0 && st.st_uid != 0) {
		t->chown = 1;
		t->owner = st.st_uid;
		t->group = st.st_gid;
	}
	return 0;
}

/* Once per process: whose files root just wrote, and why. */
static void
cs_txn_say_owner(const struct cs_txn *t)
{
	static int	 said;
	struct passwd	 pw, *res = NULL;
	char		 buf[4096], uid[32];
	const char	*who = uid;

	if (!t->chown || said)
		return;
	said = 1;
	snprintf(uid, sizeof(uid), "uid %u", (unsigned)t->owner);
	if (getpwuid_r(t->owner, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		who = pw.pw_name;
	fprintf(stderr, "certmgr: %s belongs to %s: the files written there "
	    "are given to %s (keys stay mode 0600) so that ftpsd running as "
	    "%s can read them at its next reload\n", t->label, who, who, who);
}

static int
cs_fsync_close(int *fdp)
{
	int	 r = 0, e;

	if (fsync(*fdp) == -1)
		r = FTPS_ESYS;
	e = errno;
	if (close(*fdp) == -1 && r == 0) {
		r = FTPS_ESYS;
		e = errno;
	}
	*fdp = -1;
	errno = e;
	return r;
}

int
cs_txn_put(struct cs_txn *t, const char *fname, const void *data, size_t len,
    int secret, char *err, size_t errlen)
{
	unsigned char	 rnd[4];
	const char	*p = data;
	ssize_t		 w;
	int		 fd = -1, tries, r = 0, e;
	mode_t		 mode = secret ? 0600 : 0644;

	if (t->n >= CS_TXN_MAX)
		return cs_err(err, errlen, FTPS_ETOOBIG, "%s: too many files "
		    "in one write", t->label);
	if (strlen(fname) + 11 > FTPS_NAME_MAX || strchr(fname, '/') != NULL)
		return cs_err(err, errlen, FTPS_EPARSE, "%s/%s: bad file "
		    "name", t->label, fname);
	for (tries = 0; tries < 8; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return cs_err_ssl(err, errlen, FTPS_ETLS,
			    "%s: no randomness", t->label);
		snprintf(t->f[t->n].tmp, sizeof(t->f[t->n].tmp),
		    ".%s.%02x%02x%02x%02x", fname, rnd[0], rnd[1], rnd[2],
		    rnd[3]);
		/*
		 * SECURITY: O_EXCL|O_NOFOLLOW never writes through a
		 * symlink planted at the temporary name, and the key gets
		 * mode 0600 from its first byte (the umask can only narrow
		 * it; fchmod() then sets exactly 0600, never wider).
		 */
		fd = openat(t->dirfd, t->f[t->n].tmp, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return cs_err(err, errlen, FTPS_ESYS, "%s/%s: %s", t->label,
		    t->f[t->n].tmp, strerror(errno));
	if (secret && fchmod(fd, 0600) == -1)
		r = FTPS_ESYS;
	/* Before any byte and the rename: never readable by the wrong one. */
	if (r == 0 && t->chown && fchown(fd, t->owner, t->group) == -1)
		r = FTPS_ESYS;
	while (r == 0 && len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			r = FTPS_ESYS;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	/* The errno of what failed, not of the close() after it. */
	if (r == 0) {
		r = cs_fsync_close(&fd);
		e = errno;
	} else {
		e = errno;
		close(fd);
	}
	if (r != 0) {
		unlinkat(t->dirfd, t->f[t->n].tmp, 0);
		return cs_err(err, errlen, r, "%s/%s: %s", t->label, fname,
		    strerror(e));
	}
	snprintf(t->f[t->n].dst, sizeof(t->f[t->n].dst), "%s", fname);
	t->f[t->n].done = 0;
	t->n++;
	return 0;
}

int
cs_txn_unlink(struct cs_txn *t, const char *fname)
{
	if (t->nunlink >= CS_TXN_MAX)
		return FTPS_ETOOBIG;
	if (str_copy(t->unlink[t->nunlink], sizeof(t->unlink[0]),
	    fname) != 0)
		return FTPS_ETOOBIG;
	t->nunlink++;
	return 0;
}

int
cs_txn_commit(struct cs_txn *t, int replace, char *err, size_t errlen)
{
	struct stat	 st;
	int		 i, r = 0;

	if (!replace)
		for (i = 0; i < t->n; i++)
			if (fstatat(t->dirfd, t->f[i].dst, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				return cs_err(err, errlen, FTPS_EEXIST,
				    "%s/%s: already exists", t->label,
				    t->f[i].dst);
	for (i = 0; i < t->n; i++) {
		/*
		 * Without replace, RENAME_NOREPLACE closes the window
		 * between the check above and here.
		 */
		if ((replace ? renameat(t->dirfd, t->f[i].tmp, t->dirfd,
		    t->f[i].dst) : renameat2(t->dirfd, t->f[i].tmp, t->dirfd,
		    t->f[i].dst, RENAME_NOREPLACE)) == -1) {
			r = cs_err(err, errlen, errno == EEXIST ? FTPS_EEXIST :
			    FTPS_ESYS, "%s/%s: %s", t->label, t->f[i].dst,
			    strerror(errno));
			break;
		}
		t->f[i].done = 1;
	}
	if (r != 0) {
		/* Without replace, what was renamed is ours to take back. */
		if (!replace)
			for (i = 0; i < t->n; i++)
				if (t->f[i].done) {
					unlinkat(t->dirfd, t->f[i].dst, 0);
					t->f[i].done = 0;
				}
		return r;
	}
	for (i = 0; i < t->nunlink; i++)
		if (unlinkat(t->dirfd, t->unlink[i], 0) == -1 &&
		    errno != ENOENT)
			return cs_err(err, errlen, FTPS_ESYS, "%s/%s: %s",
			    t->label, t->unlink[i], strerror(errno));
	if (fsync(t->dirfd) == -1)
		return cs_err(err, errlen, FTPS_ESYS, "%s: %s", t->label,
		    strerror(errno));
	cs_txn_say_owner(t);
	return 0;
}

void
cs_txn_end(struct cs_txn *t)
{
	int	 i;

	for (i = 0; i < t->n; i++)
		if (!t->f[i].done)
			unlinkat(t->dirfd, t->f[i].tmp, 0);
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->dirfd = -1;
	t->n = 0;
}

int
cs_set_default(const char *dir, const char *name, char *err, size_t errlen)
{
	struct cs_txn	 t;
	char		 line[FTPS_CERTNAME_MAX + 2];
	int		 r, has;

	if ((has = cs_files(dir, name, err, errlen)) < 0)
		return has;
	if (!(has & CS_HAS_CRT))
		return cs_err(err, errlen, FTPS_ENOENT, "%s/%s.crt: no such "
		    "certificate", dir, name);
	snprintf(line, sizeof(line), "%s\n", name);
	if ((r = cs_txn_begin(&t, dir, err, errlen)) != 0)
		return r;
	if ((r = cs_txn_put(&t, CS_DEFAULT_FILE, line, strlen(line), 0, err,
	    errlen)) == 0)
		r = cs_txn_commit(&t, 1, err, errlen);
	cs_txn_end(&t);
	return r;
}

int
cs_rename(const char *dir, const char *from, const char *to, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 src[CS_NEXT][FTPS_NAME_MAX + 1];
	char		 dst[CS_NEXT][FTPS_NAME_MAX + 1];
	char		 mark[FTPS_CERTNAME_MAX + 1];
	int		 has, fd = -1, r = 0, done[CS_NEXT] = { 0 };
	size_t		 i;

	if ((r = cs_name_check(to, err, errlen)) != 0)
		return r;
	if ((has = cs_files(dir, from, err, errlen)) < 0)
		return has;
	if (has == 0)
		return cs_err(err, errlen, FTPS_ENOENT, "%s/%s: no such "
		    "certificate name (no %s.crt, .key, .chain or .csr)", dir,
		    from, from);
	if (strcmp(from, to) == 0)
		return 0;
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;
	for (i = 0; i < CS_NEXT; i++) {
		snprintf(src[i], sizeof(src[i]), "%s%s", from, cs_exts[i]);
		snprintf(dst[i], sizeof(dst[i]), "%s%s", to, cs_exts[i]);
		if (fstatat(fd, dst[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			r = cs_err(err, errlen, FTPS_EEXIST,
			    "%s/%s: already exists", dir, dst[i]);
			goto out;
		}
	}
	if ((r = cs_read_mark(fd, dir, mark, sizeof(mark), err, errlen)) != 0)
		goto out;
	for (i = 0; i < CS_NEXT; i++) {
		if (!(has & (int)cs_ext_has[i]))
			continue;
		if (renameat2(fd, src[i], fd, dst[i], RENAME_NOREPLACE) == -1) {
			r = cs_err(err, errlen, errno == EEXIST ? FTPS_EEXIST :
			    FTPS_ESYS, "%s/%s: %s", dir, dst[i],
			    strerror(errno));
			break;
		}
		done[i] = 1;
	}
	if (r != 0) {
		for (i = 0; i < CS_NEXT; i++)
			if (done[i])
				(void)renameat2(fd, dst[i], fd, src[i],
				    RENAME_NOREPLACE);
		goto out;
	}
	if (fsync(fd) == -1) {
		r = cs_err(err, errlen, FTPS_ESYS, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if (strcmp(mark, from) == 0)
		r = cs_set_default(dir, to, err, errlen);
 out:
	close(fd);
	return r;
}

int
cs_delete(const char *dir, const char *name, char *err, size_t errlen)
{
	char		 fname[FTPS_NAME_MAX + 1];
	char		 mark[FTPS_CERTNAME_MAX + 1];
	int		 has, fd, r = 0;
	size_t		 i;

	if ((has = cs_files(dir, name, err, errlen)) < 0)
		return has;
	if (has == 0)
		return cs_err(err, errlen, FTPS_ENOENT, "%s/%s: no such "
		    "certificate name (no %s.crt, .key, .chain or .csr)", dir,
		    name, name);
	if ((fd = cs_opendir(dir, err, errlen)) < 0)
		return fd;
	if ((r = cs_read_mark(fd, dir, mark, sizeof(mark), err, errlen)) != 0)
		goto out;
	/* The mark goes first: never a default naming a half-deleted pair. */
	if (strcmp(mark, name) == 0 &&
	    unlinkat(fd, CS_DEFAULT_FILE, 0) == -1) {
		r = cs_err(err, errlen, FTPS_ESYS, "%s/%s: %s", dir,
		    CS_DEFAULT_FILE, strerror(errno));
		goto out;
	}
	for (i = 0; i < CS_NEXT; i++) {
		if (!(has & (int)cs_ext_has[i]))
			continue;
		snprintf(fname, sizeof(fname), "%s%s", name, cs_exts[i]);
		if (unlinkat(fd, fname, 0) == -1 && errno != ENOENT) {
			r = cs_err(err, errlen, FTPS_ESYS, "%s/%s: %s", dir,
			    fname, strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) == -1)
		r = cs_err(err, errlen, FTPS_ESYS, "%s: %s", dir,
		    strerror(errno));
 out:
	close(fd);
	return r;
}
