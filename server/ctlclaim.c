/*
 * Mailbox claims across processes (ctlclaim.h): one atomic word, taken
 * and dropped by compare-and-swap only.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "ctlclaim.h"

#define CLAIM_MS_BITS	40
#define CLAIM_MS_MASK	((UINT64_C(1) << CLAIM_MS_BITS) - 1)
#define CLAIM_GEN_MAX	0xffffffU	/* 24 bits, 0 never used */

/* Whether now is at or past the claim's expiry (modulo 2^40 ms). */
static int
claim_expired(uint64_t word, long long now_ms)
{
	uint64_t	 d;

	d = ((uint64_t)now_ms - (word & CLAIM_MS_MASK)) & CLAIM_MS_MASK;
	return d < (UINT64_C(1) << (CLAIM_MS_BITS - 1));
}

uint64_t
ctl_claim_take(_Atomic uint64_t *claim, _Atomic uint32_t *gen,
    long long now_ms, long long expires_ms)
{
	uint64_t	 old, tok, g;

	old = atomic_load(claim);
	if (old != 0 && !claim_expired(old, now_ms))
		return 0;
	g = (uint64_t)(atomic_fetch_add(gen, 1) % CLAIM_GEN_MAX) + 1;
	tok = (g << CLAIM_MS_BITS) | ((uint64_t)expires_ms & CLAIM_MS_MASK);
	/* Another asker took or dropped it meanwhile: not ours. */
	if (!atomic_compare_exchange_strong(claim, &old, tok))
		return 0;
	return tok;
}

int
ctl_claim_held(_Atomic uint64_t *claim, uint64_t token)
{
	return token != 0 && atomic_load(claim) == token;
}

void
ctl_claim_drop(_Atomic uint64_t *claim, uint64_t token)
{
	uint64_t	 t = token;

	if (token != 0)
		(void)atomic_compare_exchange_strong(claim, &t, 0);
}
