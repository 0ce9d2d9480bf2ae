# tests/bench: ftpsbench, the FTPS load generator (built by make, never
# installed), and scripts/bench which drives it against ftpsd and peers.
noinst_PROGRAMS += tests/bench/ftpsbench
tests_bench_ftpsbench_SOURCES = tests/bench/ftpsbench.c
tests_bench_ftpsbench_LDADD = lib/libftps.a $(OPENSSL_LIBS) $(LIBEVENT_LIBS) -lm

# Smoke test: every ftpsbench mode for a few seconds against a real ftpsd.
TESTS += tests/bench/smoke.sh
AM_TESTS_ENVIRONMENT += \
	FTPSD='$(abs_top_builddir)/server/ftpsd'; export FTPSD; \
	FTPSBENCH='$(abs_top_builddir)/tests/bench/ftpsbench'; export FTPSBENCH;
EXTRA_DIST += tests/bench/smoke.sh scripts/bench docs/bench.md
