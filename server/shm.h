/*
 * State that worker processes share (workers > 1, server/worker.c): a
 * MAP_SHARED|MAP_ANONYMOUS region made by the master before it forks
 * (with workers = 1 the one process makes its own session counts),
 * so it sits at the same address in every worker and pointers into it
 * stay valid.  Each region is guarded by a process-shared robust mutex:
 * a worker killed while holding it does not block the others
 * (EOWNERDEAD: the next locker repairs the region and goes on).
 *
 * The session counts behind max_clients and max_clients_per_ip live in
 * one fixed-size table of (client address, worker) -> sessions, so the
 * master can release all a dead worker held.  Addresses are grouped as
 * bans group them (addr_key(): IPv4 whole, IPv6 by the prefix given to
 * shm_counts_new()).  listener.c's lst_admit() is the one caller that
 * admits.
 */
#ifndef FTPS_SHM_H
#define FTPS_SHM_H

#include <sys/socket.h>

#include <pthread.h>

#define SHM_IP_SLOTS	131072	/* (address, worker) slots, power of 2 */
#define SHM_IP_FILL	(SHM_IP_SLOTS / 4 * 3)	/* entries at most */
#define SHM_WORKERS_MAX	64	/* CONF_WORKERS_MAX */

struct shm_counts;

/* shm_admit() results. */
#define SHM_ADMIT_OK	0
#define SHM_ADMIT_FULL	1	/* max_clients reached */
#define SHM_ADMIT_PERIP	2	/* max_clients_per_ip reached */
#define SHM_ADMIT_TABLE	3	/* SHM_IP_FILL distinct entries in use */

/*
 * Initializes a process-shared robust mutex in shared memory.  0 or
 * FTPS_ESYS.
 */
int	 shm_mutex_init(pthread_mutex_t *);
/*
 * Locks it: 0, or 1 when the previous owner died holding it (the mutex
 * is made consistent again; the caller must repair what it guards).
 */
int	 shm_lock(pthread_mutex_t *);
void	 shm_unlock(pthread_mutex_t *);

/*
 * Maps a zeroed shared table for nworkers workers, grouping IPv6 clients
 * by their first v6prefix bits: 0 or FTPS_ESYS.
 */
int	 shm_counts_new(unsigned nworkers, unsigned v6prefix,
	    struct shm_counts **);
/* Unmaps this process's view of it; NULL is fine. */
void	 shm_counts_free(struct shm_counts *);
/*
 * Admission of one connection from ss by worker w (0-based), checked
 * and counted in one step under the lock: SHM_ADMIT_OK (counted) or why
 * not (nothing counted).  A limit of 0 is no limit.
 */
int	 shm_admit(struct shm_counts *, unsigned w,
	    const struct sockaddr_storage *ss, unsigned max_clients,
	    unsigned max_per_ip);
/* Ends one session that shm_admit counted. */
void	 shm_release(struct shm_counts *, unsigned w,
	    const struct sockaddr_storage *ss);
/* Sessions of ss over all workers. */
unsigned shm_ip_count(struct shm_counts *, const struct sockaddr_storage *);
/* Sessions over all workers, and of worker w. */
unsigned shm_total(struct shm_counts *);
unsigned shm_worker_total(struct shm_counts *, unsigned w);
/*
 * The master, after reaping worker w: forgets every session it held.
 * Returns how many that was.
 */
unsigned shm_release_worker(struct shm_counts *, unsigned w);

#endif
