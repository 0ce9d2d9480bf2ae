/*
 * Failed logins per client address and temporary bans: an address with
 * ban_failures failed logins within ban_window seconds is banned for
 * ban_seconds (config keys).  IPv4 addresses count one by one (an
 * IPv4-mapped IPv6 address is its IPv4 address); IPv6 addresses count by
 * their ipv6_prefix (default /64), the block one subscriber usually
 * holds.  That grouping is lib/addrkey.c's addr_key(), shared with
 * max_clients_per_ip (shm.c) and the password pool's flows (auth.c).
 *
 * The table lives in struct ftpsd, is created at the first failure (or
 * shared by the workers, ban_share) and is bounded: at most
 * BAN_TRACK_MAX addresses, each with a ring of at most
 * CONF_BAN_FAILURES_MAX failure times.  A banned address is never
 * forgotten before its ban ends: with the table full of bans, new
 * addresses are not tracked (counted, and logged).  Times are
 * CLOCK_MONOTONIC seconds; the *_at() forms take the time from the
 * caller (tests).
 */
#ifndef FTPS_BAN_H
#define FTPS_BAN_H

#include <sys/socket.h>
#include <time.h>

struct ftpsd;

#define BAN_TRACK_MAX	16384	/* addresses tracked at once */
#define BAN_BUCKETS	4096	/* hash buckets */

/* Seconds the address stays banned; 0 when it is not banned. */
unsigned	 ban_left(struct ftpsd *, const struct sockaddr_storage *);
unsigned	 ban_left_at(struct ftpsd *, const struct sockaddr_storage *,
		    time_t now);
/*
 * Records one failed login of the address: 1 when this failure starts a
 * ban, 0 when not (or bans are off, or the address is already banned),
 * FTPS_ETOOBIG when the table is full of bans and the address is not
 * tracked, FTPS_ENOMEM when it could not be recorded.
 */
int		 ban_fail(struct ftpsd *, const struct sockaddr_storage *);
int		 ban_fail_at(struct ftpsd *, const struct sockaddr_storage *,
		    time_t now);
/*
 * The addresses banned now: cb(key, seconds left, arg) for each (the
 * key as addr_key() makes it; addr_key_text() prints it), with
 * the table locked (cb must not call ban functions); a non-zero return
 * from cb stops and is returned.
 */
int		 ban_each(struct ftpsd *, int (*cb)(const unsigned char *key,
		    unsigned left, void *), void *arg);
/*
 * Lifts the ban of the address (and forgets its failures): 0, or
 * FTPS_EPARSE when it is not banned.
 */
int		 ban_lift(struct ftpsd *, const struct sockaddr_storage *);
/* Addresses tracked right now. */
unsigned	 ban_count(const struct ftpsd *);
/* Failures not tracked since start because the table was full of bans. */
unsigned long	 ban_untracked(const struct ftpsd *);
/*
 * Makes the table now, in memory shared with the processes forked after
 * (workers > 1), guarded by a robust process-shared mutex: a failure
 * counted by one worker counts for all.  0, FTPS_ESYS, or FTPS_EPARSE
 * when there is a table already.
 */
int		 ban_share(struct ftpsd *);
/* Frees (or unmaps) the table; safe when there is none. */
void		 ban_free(struct ftpsd *);

#endif
