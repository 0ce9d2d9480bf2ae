/*
 * A claim on a mailbox shared by processes (server/ctl.c): one asker at
 * a time per box.  The claim word is 0 when free, else the holder's
 * token: a generation (24 bits, from a shared counter) over the
 * monotonic millisecond (40 bits) after which the claim may be taken
 * over, for a holder that died.  Only the token's holder may drop it, so
 * a late asker never frees a claim that another one has taken since, and
 * an asker whose token no longer holds the box must not read its answer.
 */
#ifndef FTPS_CTLCLAIM_H
#define FTPS_CTLCLAIM_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * Takes the claim until expires_ms (monotonic ms, after now_ms), when it
 * is free or its holder's time is past: the token, never 0; 0 when
 * another asker holds it.
 */
uint64_t ctl_claim_take(_Atomic uint64_t *claim, _Atomic uint32_t *gen,
	    long long now_ms, long long expires_ms);
/* 1 while token still holds the claim. */
int	 ctl_claim_held(_Atomic uint64_t *claim, uint64_t token);
/* Frees the claim if token still holds it; else changes nothing. */
void	 ctl_claim_drop(_Atomic uint64_t *claim, uint64_t token);

#endif
