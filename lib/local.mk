# lib/: the few basics both programs share.
noinst_LIBRARIES += lib/libftps.a
lib_libftps_a_SOURCES = lib/buf.c lib/buf.h lib/err.c lib/err.h \
	lib/addrkey.c lib/addrkey.h \
	lib/ftps_limits.h lib/hash.c lib/hash.h lib/log.c lib/log.h lib/parse.c lib/parse.h
