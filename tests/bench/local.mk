# tests/bench: ftpsbench, the FTPS load generator (built by make, never
# installed), and scripts/bench which drives it against ftpsd and peers.
noinst_PROGRAMS += tests/bench/ftpsbench
tests_bench_ftpsbench_SOURCES = tests/bench/ftpsbench.c
tests_bench_ftpsbench_LDADD = lib/libftps.a $(OPENSSL_LIBS) $(LIBEVENT_LIBS) -lm
