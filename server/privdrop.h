/*
 * Privilege drop.  Started as root, ftpsd binds its ports and reads its
 * certificate, key and users file, then switches for good to
 * run_as_user, its primary group and its supplementary groups, and
 * keeps no capability.  Started as any other user it stays that user
 * and only sheds capabilities it was given (an ambient
 * CAP_NET_BIND_SERVICE, say).  Sessions are never served as uid 0
 * unless allow_root = on.
 */
#ifndef FTPS_PRIVDROP_H
#define FTPS_PRIVDROP_H

#include <stdio.h>
#include <sys/types.h>

struct conf;

/*
 * Switches to run_as_user as described above and then checks that root
 * cannot be regained (setuid(0) must fail, no capability left).  Writes
 * a one-line summary ("running as ftpsd (uid 998, gid 998)") to note.
 * 0, or FTPS_EDENIED (run_as_user is root without allow_root, or
 * unknown) / FTPS_ESYS, after printing why to errf.
 */
int	 priv_drop(const struct conf *, char *note, size_t notelen,
	    FILE *errf);
/*
 * What priv_drop would refuse, without changing anything (ftpsd -t):
 * an unknown run_as_user, or root without allow_root.  0 or
 * FTPS_EDENIED after printing why to errf.
 */
int	 priv_check(const struct conf *, FILE *errf);
/*
 * Looks up a user: 0 with uid and gid set, FTPS_ENOENT, or FTPS_ESYS.
 */
int	 priv_lookup(const char *name, uid_t *uid, gid_t *gid);

#endif
