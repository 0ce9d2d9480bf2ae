/*
 * One error convention for every module: 0 on success or a negative
 * FTPS_E* code.  FTPS_ESYS means errno holds the cause; FTPS_ETLS means
 * OpenSSL's error queue does.
 */
#ifndef FTPS_ERR_H
#define FTPS_ERR_H

enum ftps_err {
	FTPS_OK		=  0,
	FTPS_ENOMEM	= -1,
	FTPS_ETOOBIG	= -2,	/* a limits.h bound was hit */
	FTPS_EPARSE	= -3,	/* malformed input */
	FTPS_ESYS	= -4,	/* errno holds the cause */
	FTPS_ETLS	= -5,	/* OpenSSL's error queue holds the cause */
	FTPS_EDENIED	= -6,	/* policy refused it */
	FTPS_ENOENT	= -7,	/* no such object */
	FTPS_EEXIST	= -8,	/* object already exists */
};

/* Static text for a code; for FTPS_ESYS it is strerror(errno). */
const char	*ftps_strerror(int);

#endif
