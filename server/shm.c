/*
 * Shared state of worker processes: robust process-shared mutexes and
 * the session counts table (shm.h).
 *
 * The table is open addressing with linear probing, keyed by
 * (address, worker) but hashed by the address alone, so every entry of
 * one address lies in the run of used slots that starts at its hash:
 * counting an address walks that run.  Deleting shifts later entries of
 * the run back (no tombstones), so a run never outgrows the entries it
 * holds.  SECURITY: hash flooding by an attacker choosing source
 * addresses (IPv6): the hash is seeded with random bytes.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "addrkey.h"
#include "err.h"
#include "log.h"
#include "shm.h"

#define SHM_MASK	(SHM_IP_SLOTS - 1)

_Static_assert((SHM_IP_SLOTS & SHM_MASK) == 0, "slots: a power of 2");

struct shm_ip {
	unsigned char	 used;
	unsigned char	 w;			/* worker, 0-based */
	unsigned char	 key[ADDR_KEY_LEN];
	uint32_t	 n;			/* sessions */
};

struct shm_counts {
	pthread_mutex_t	 mu;
	unsigned	 nworkers;
	unsigned	 v6prefix;		/* ipv6_prefix */
	unsigned	 total;
	unsigned	 nentries;
	unsigned	 byworker[SHM_WORKERS_MAX];
	unsigned char	 seed[ADDR_SEED_LEN];
	struct shm_ip	 slot[SHM_IP_SLOTS];
};

int
shm_mutex_init(pthread_mutex_t *mu)
{
	pthread_mutexattr_t	 a;
	int			 r = FTPS_ESYS;

	if (pthread_mutexattr_init(&a) != 0)
		return FTPS_ESYS;
	if (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == 0 &&
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0 &&
	    pthread_mutex_init(mu, &a) == 0)
		r = 0;
	pthread_mutexattr_destroy(&a);
	return r;
}

int
shm_lock(pthread_mutex_t *mu)
{
	int	 r;

	r = pthread_mutex_lock(mu);
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(mu);
		return 1;
	}
	if (r != 0) {
		/* Only a corrupted mutex gets here: nothing can go on. */
		log_err("shared state: mutex: %s", strerror(r));
		abort();
	}
	return 0;
}

void
shm_unlock(pthread_mutex_t *mu)
{
	pthread_mutex_unlock(mu);
}

static int
shm_key(const struct shm_counts *c, const struct sockaddr_storage *ss,
    unsigned char *key)
{
	return addr_key(ss, c->v6prefix, key);
}

static unsigned
shm_hash(const struct shm_counts *c, const unsigned char *key)
{
	return (unsigned)(addr_key_hash(c->seed, key) & SHM_MASK);
}

/* The slot of (key, w), or -1. */
static long
shm_find(struct shm_counts *c, const unsigned char *key, unsigned w)
{
	unsigned	 i, k;

	for (i = shm_hash(c, key), k = 0; k < SHM_IP_SLOTS && c->slot[i].used;
	    i = (i + 1) & SHM_MASK, k++)
		if (c->slot[i].w == w &&
		    memcmp(c->slot[i].key, key, ADDR_KEY_LEN) == 0)
			return (long)i;
	return -1;
}

static unsigned
shm_count_key(struct shm_counts *c, const unsigned char *key)
{
	unsigned	 i, k, n = 0;

	for (i = shm_hash(c, key), k = 0; k < SHM_IP_SLOTS && c->slot[i].used;
	    i = (i + 1) & SHM_MASK, k++)
		if (memcmp(c->slot[i].key, key, ADDR_KEY_LEN) == 0)
			n += c->slot[i].n;
	return n;
}

/*
 * Adds n sessions of (key, w); a (key, w) already there keeps the larger
 * count when max is set (a repair must not count a half-moved entry
 * twice).  0, or -1 when the table is full.
 */
static int
shm_insert(struct shm_counts *c, const unsigned char *key, unsigned w,
    uint32_t n, int max)
{
	unsigned	 i;
	long		 at;

	if ((at = shm_find(c, key, w)) >= 0) {
		if (!max)
			c->slot[at].n += n;
		else if (c->slot[at].n < n)
			c->slot[at].n = n;
		return 0;
	}
	if (c->nentries >= SHM_IP_FILL)
		return -1;
	i = shm_hash(c, key);
	while (c->slot[i].used)
		i = (i + 1) & SHM_MASK;
	c->slot[i].used = 1;
	c->slot[i].w = (unsigned char)w;
	memcpy(c->slot[i].key, key, ADDR_KEY_LEN);
	c->slot[i].n = n;
	c->nentries++;
	return 0;
}

/* Empties slot i, shifting back the entries of its run that may move. */
static void
shm_delete(struct shm_counts *c, unsigned i)
{
	unsigned	 j = i, home;

	memset(&c->slot[i], 0, sizeof(c->slot[i]));
	c->nentries--;
	for (;;) {
		j = (j + 1) & SHM_MASK;
		if (!c->slot[j].used)
			break;
		home = shm_hash(c, c->slot[j].key);
		/* Stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		c->slot[i] = c->slot[j];
		memset(&c->slot[j], 0, sizeof(c->slot[j]));
		i = j;
	}
}

/*
 * Rebuilds the table from its entries, leaving out worker skip (or
 * none, for skip >= SHM_WORKERS_MAX), and recounts the totals.  After a
 * worker died holding the lock this undoes whatever it left half done.
 */
static void
shm_rebuild(struct shm_counts *c, unsigned skip)
{
	struct shm_ip	*keep;
	size_t		 i, n = 0;

	keep = malloc(sizeof(*keep) * SHM_IP_FILL);
	for (i = 0; i < SHM_IP_SLOTS; i++)
		if (c->slot[i].used && c->slot[i].w != skip &&
		    c->slot[i].w < c->nworkers && keep != NULL &&
		    n < SHM_IP_FILL)
			keep[n++] = c->slot[i];
	memset(c->slot, 0, sizeof(c->slot));
	c->nentries = c->total = 0;
	memset(c->byworker, 0, sizeof(c->byworker));
	for (i = 0; i < n; i++)
		(void)shm_insert(c, keep[i].key, keep[i].w, keep[i].n, 1);
	for (i = 0; i < SHM_IP_SLOTS; i++)
		if (c->slot[i].used) {
			c->total += c->slot[i].n;
			c->byworker[c->slot[i].w] += c->slot[i].n;
		}
	free(keep);
}

static void
shm_counts_lock(struct shm_counts *c)
{
	if (shm_lock(&c->mu) == 1) {
		log_warnx("shared state: a worker died holding the session "
		    "counts; recounting");
		shm_rebuild(c, SHM_WORKERS_MAX);
	}
}

int
shm_counts_new(unsigned nworkers, unsigned v6prefix,
    struct shm_counts **out)
{
	struct shm_counts	*c;

	*out = NULL;
	if (nworkers == 0 || nworkers > SHM_WORKERS_MAX)
		return FTPS_EPARSE;
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return FTPS_ESYS;
	/* A fresh anonymous mapping is zeroed. */
	c->nworkers = nworkers;
	c->v6prefix = v6prefix;
	if (RAND_bytes(c->seed, sizeof(c->seed)) != 1 ||
	    shm_mutex_init(&c->mu) != 0) {
		munmap(c, sizeof(*c));
		return FTPS_ESYS;
	}
	*out = c;
	return 0;
}

void
shm_counts_free(struct shm_counts *c)
{
	if (c != NULL)
		munmap(c, sizeof(*c));
}

int
shm_admit(struct shm_counts *c, unsigned w,
    const struct sockaddr_storage *ss, unsigned max_clients,
    unsigned max_per_ip)
{
	unsigned char	 key[ADDR_KEY_LEN];
	int		 r = SHM_ADMIT_OK;

	if (w >= c->nworkers || shm_key(c, ss, key) != 0)
		return SHM_ADMIT_TABLE;
	shm_counts_lock(c);
	if (max_clients > 0 && c->total >= max_clients)
		r = SHM_ADMIT_FULL;
	else if (max_per_ip > 0 && shm_count_key(c, key) >= max_per_ip)
		r = SHM_ADMIT_PERIP;
	else if (shm_insert(c, key, w, 1, 0) != 0)
		r = SHM_ADMIT_TABLE;
	else {
		c->total++;
		c->byworker[w]++;
	}
	shm_unlock(&c->mu);
	return r;
}

void
shm_release(struct shm_counts *c, unsigned w,
    const struct sockaddr_storage *ss)
{
	unsigned char	 key[ADDR_KEY_LEN];
	long		 at;

	if (w >= c->nworkers || shm_key(c, ss, key) != 0)
		return;
	shm_counts_lock(c);
	if ((at = shm_find(c, key, w)) >= 0) {
		c->total--;
		c->byworker[w]--;
		if (--c->slot[at].n == 0)
			shm_delete(c, (unsigned)at);
	}
	shm_unlock(&c->mu);
}

unsigned
shm_ip_count(struct shm_counts *c, const struct sockaddr_storage *ss)
{
	unsigned char	 key[ADDR_KEY_LEN];
	unsigned	 n;

	if (shm_key(c, ss, key) != 0)
		return 0;
	shm_counts_lock(c);
	n = shm_count_key(c, key);
	shm_unlock(&c->mu);
	return n;
}

unsigned
shm_total(struct shm_counts *c)
{
	unsigned	 n;

	shm_counts_lock(c);
	n = c->total;
	shm_unlock(&c->mu);
	return n;
}

unsigned
shm_worker_total(struct shm_counts *c, unsigned w)
{
	unsigned	 n = 0;

	shm_counts_lock(c);
	if (w < c->nworkers)
		n = c->byworker[w];
	shm_unlock(&c->mu);
	return n;
}

unsigned
shm_release_worker(struct shm_counts *c, unsigned w)
{
	unsigned	 n = 0;

	shm_counts_lock(c);
	if (w < c->nworkers) {
		n = c->byworker[w];
		if (n > 0)
			shm_rebuild(c, w);
	}
	shm_unlock(&c->mu);
	return n;
}
