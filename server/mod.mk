# server/libvfs.a: path confinement (vfs), directory listings and the
# data-channel address text (ftpaddr), linked by ftpsd and the unit tests.
noinst_LIBRARIES += server/libvfs.a
server_libvfs_a_SOURCES = server/vfs.c server/vfs.h \
	server/listing.c server/listing.h \
	server/ftpaddr.c server/ftpaddr.h
EXTRA_DIST += docs/vfs.md
