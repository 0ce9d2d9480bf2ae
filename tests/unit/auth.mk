# tests/unit/auth.mk: users file parsing and the password-check pool.
check_PROGRAMS += tests/unit/check_auth
tests_unit_check_auth_SOURCES = tests/unit/check_auth.c tests/unit/runner.c
tests_unit_check_auth_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_auth_LDADD = server/libauth.a config/libconf.a lib/libftps.a \
	$(UNIT_LDADD)
TESTS += tests/unit/check_auth

# The verified-login cache, alone and through the pool.
check_PROGRAMS += tests/unit/check_authcache
tests_unit_check_authcache_SOURCES = tests/unit/check_authcache.c \
	tests/unit/runner.c
tests_unit_check_authcache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_authcache_LDADD = server/libauth.a config/libconf.a \
	lib/libftps.a $(UNIT_LDADD)
TESTS += tests/unit/check_authcache
