# certmgr/: libcertstore (what the server links too) and the certmgr CLI.
noinst_LIBRARIES += certmgr/libcertstore.a
certmgr_libcertstore_a_SOURCES = certmgr/certstore.h certmgr/certstore.c \
	certmgr/cs_decode.c
