#include <errno.h>
#include <string.h>

#include "err.h"

const char *
ftps_strerror(int r)
{
	switch (r) {
	case FTPS_OK:
		return "success";
	case FTPS_ENOMEM:
		return "out of memory";
	case FTPS_ETOOBIG:
		return "too long or too large";
	case FTPS_EPARSE:
		return "malformed input";
	case FTPS_ESYS:
		return strerror(errno);
	case FTPS_ETLS:
		return "TLS or crypto failure";
	case FTPS_EDENIED:
		return "permission denied";
	case FTPS_ENOENT:
		return "no such file or directory";
	case FTPS_EEXIST:
		return "already exists";
	default:
		return "unknown error";
	}
}
