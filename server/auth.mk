# server/auth.mk: the accounts module (users file, password checks).
# Users link $(LIBCRYPT_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS) -pthread.
noinst_LIBRARIES += server/libauth.a
server_libauth_a_SOURCES = server/auth.c server/auth.h \
	server/authpool.c server/authpool.h server/pool.c server/pool.h \
	server/authcache.c server/authcache.h
server_libauth_a_CFLAGS = $(AM_CFLAGS) $(PTHREAD_LIBS)
EXTRA_DIST += docs/users.md
