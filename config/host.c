/*
 * [host NAME] sections of ftpsd.conf (docs/vhosts.md).  A section runs
 * from its "[host NAME]" line to the next one or the end of the file and
 * may set "aliases" and the keys flagged CONF_F_HOST; each value goes
 * through the key's own row of conf.c's table, into a zeroed struct conf
 * of the section, so a key means the same in and out of a section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "err.h"
#include "parse.h"

int
conf_host_name(const char *in, char *out, size_t len)
{
	size_t	 n = strlen(in), i, label = 0;
	int	 ch;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > FTPS_HOSTNAME_MAX || n >= len)
		return FTPS_EPARSE;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)in[i];
		if (ch == '.') {
			if (label == 0 || out[i - 1] == '-')
				return FTPS_EPARSE;
			label = 0;
			out[i] = '.';
			continue;
		}
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    (ch == '-' && label > 0)) || ++label > 63)
			return FTPS_EPARSE;
		out[i] = (char)ch;
	}
	if (out[n - 1] == '-')
		return FTPS_EPARSE;
	out[n] = '\0';
	return 0;
}

/* The section holding name (or alias), other than skip; NULL if none. */
static const struct conf_host *
host_owner(const struct conf *c, const char *name, const struct conf_host *skip)
{
	const struct conf_host	*h;
	int			 i, j;

	for (i = 0; i < c->nhosts; i++) {
		h = &c->hosts[i];
		if (h == skip)
			continue;
		if (strcmp(h->name, name) == 0)
			return h;
		for (j = 0; j < h->naliases; j++)
			if (strcmp(h->aliases[j], name) == 0)
				return h;
	}
	return NULL;
}

const struct conf_host *
conf_host_find(const struct conf *c, const char *name)
{
	return host_owner(c, name, NULL);
}

/* A name already taken (by another section, or twice by this one). */
static int
host_taken(const struct conf *c, const struct conf_host *self,
    const char *name, const struct conf_src *src, FILE *errf)
{
	const struct conf_host	*h;
	int			 j, twice = 0;

	if ((h = host_owner(c, name, self)) != NULL) {
		conf_err(errf, src->file, src->line, "host name \"%s\" is "
		    "already used by [host %s] on line %u", name, h->name,
		    h->line);
		return FTPS_EPARSE;
	}
	if (self != NULL) {
		twice = strcmp(self->name, name) == 0;
		for (j = 0; j < self->naliases; j++)
			twice |= strcmp(self->aliases[j], name) == 0;
	}
	if (twice) {
		conf_err(errf, src->file, src->line, "host name \"%s\" given "
		    "twice in [host %s]", name, self->name);
		return FTPS_EPARSE;
	}
	return 0;
}

int
conf_section(struct conf *c, char *line, const struct conf_src *src,
    int *section, FILE *errf)
{
	struct conf_host	*h, *nh;
	char			 sv[CONF_SHOW_MAX], name[FTPS_HOSTNAME_MAX + 1];
	char			*p, *end;
	size_t			 n = strlen(line);

	*section = CONF_SECTION_BAD;
	if (n < 2 || line[n - 1] != ']' || strncmp(line + 1, "host", 4) != 0 ||
	    (line[5] != ' ' && line[5] != '\t')) {
		conf_err(errf, src->file, src->line, "expected \"[host "
		    "NAME]\", not \"%s\"", conf_show(sv, sizeof(sv), line));
		return FTPS_EPARSE;
	}
	line[n - 1] = '\0';
	p = str_trim(line + 5);
	for (end = p; *end != '\0' && *end != ' ' && *end != '\t'; end++)
		;
	if (*p == '\0' || *end != '\0' ||
	    conf_host_name(p, name, sizeof(name)) != 0) {
		conf_err(errf, src->file, src->line, "[host %s]: not a host "
		    "name (a DNS name: letters, digits, '-' and '.', at most "
		    "%d bytes)", conf_show(sv, sizeof(sv), p),
		    FTPS_HOSTNAME_MAX);
		return FTPS_EPARSE;
	}
	if (c->nhosts >= FTPS_HOSTS_MAX) {
		conf_err(errf, src->file, src->line, "more than %d [host] "
		    "sections", FTPS_HOSTS_MAX);
		return FTPS_EPARSE;
	}
	if (host_taken(c, NULL, name, src, errf) != 0)
		return FTPS_EPARSE;
	if ((nh = reallocarray(c->hosts, (size_t)c->nhosts + 1,
	    sizeof(*nh))) == NULL) {
		conf_err(errf, src->file, src->line, "out of memory");
		return FTPS_ENOMEM;
	}
	c->hosts = nh;
	h = &c->hosts[c->nhosts];
	memset(h, 0, sizeof(*h));
	if ((h->name = strdup(name)) == NULL ||
	    (h->set = calloc(1, sizeof(*h->set))) == NULL) {
		free(h->name);
		conf_err(errf, src->file, src->line, "out of memory");
		return FTPS_ENOMEM;
	}
	h->line = src->line;
	*section = c->nhosts++;
	return 0;
}

/* "aliases = a, b": more names of the host. */
static int
host_aliases(struct conf *c, struct conf_host *h, const char *value,
    const struct conf_src *src, FILE *errf)
{
	char		 sv[CONF_SHOW_MAX], name[FTPS_HOSTNAME_MAX + 1];
	char		*dup, *p, *tok, *save = NULL;
	int		 r = 0;

	if (h->aliases_line != 0) {
		conf_err(errf, src->file, src->line, "duplicate key "
		    "\"aliases\" in [host %s] (first set on line %u)",
		    h->name, h->aliases_line);
		return FTPS_EPARSE;
	}
	h->aliases_line = src->line;
	if ((dup = strdup(value)) == NULL) {
		conf_err(errf, src->file, src->line, "out of memory");
		return FTPS_ENOMEM;
	}
	for (p = dup; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		tok = str_trim(tok);
		if (conf_host_name(tok, name, sizeof(name)) != 0) {
			conf_err(errf, src->file, src->line, "aliases: \"%s\" "
			    "is not a host name (a DNS name: letters, digits, "
			    "'-' and '.')", conf_show(sv, sizeof(sv), tok));
			r = FTPS_EPARSE;
			break;
		}
		if ((r = host_taken(c, h, name, src, errf)) != 0)
			break;
		if (h->naliases == FTPS_HOST_ALIASES_MAX) {
			conf_err(errf, src->file, src->line, "aliases: more "
			    "than %d names", FTPS_HOST_ALIASES_MAX);
			r = FTPS_EPARSE;
			break;
		}
		if ((h->aliases[h->naliases] = strdup(name)) == NULL) {
			conf_err(errf, src->file, src->line, "out of memory");
			r = FTPS_ENOMEM;
			break;
		}
		h->naliases++;
	}
	if (r == 0 && h->naliases == 0) {
		conf_err(errf, src->file, src->line, "aliases: missing value");
		r = FTPS_EPARSE;
	}
	free(dup);
	return r;
}

/* ", certificate, users_file, ...": the keys a section may set. */
static const char *
host_keys(char *buf, size_t len)
{
	const char	*name;
	size_t		 i, off = 0;

	buf[0] = '\0';
	for (i = 0; (name = conf_key_name(i)) != NULL && off < len; i++) {
		if (!conf_host_key(i))
			continue;
		snprintf(buf + off, len - off, ", %s", name);
		off = strlen(buf);
	}
	return buf;
}

int
conf_section_set(struct conf *c, int i, const char *key, const char *value,
    const struct conf_src *src, FILE *errf)
{
	struct conf_host	*h = &c->hosts[i];
	char			 sk[CONF_SHOW_MAX], list[512];
	int			 k;

	if (strcmp(key, "aliases") == 0)
		return host_aliases(c, h, value, src, errf);
	if ((k = conf_find(key)) == -1)
		/* The usual message, with its "did you mean". */
		return conf_apply(h->set, key, value, src, errf);
	if (!conf_host_key((size_t)k)) {
		conf_err(errf, src->file, src->line, "%s cannot be set in "
		    "[host %s]: it applies to the whole daemon (set it before "
		    "the first [host] section; a section may set aliases%s)",
		    conf_show(sk, sizeof(sk), key), h->name,
		    host_keys(list, sizeof(list)));
		return FTPS_EPARSE;
	}
	if (h->set->c_line[k] != 0) {
		conf_err(errf, src->file, src->line, "duplicate key \"%s\" in "
		    "[host %s] (first set on line %u)", key, h->name,
		    h->set->c_line[k]);
		return FTPS_EPARSE;
	}
	return conf_apply(h->set, key, value, src, errf);
}

int
conf_hosts_check(const struct conf *c, const char *file, FILE *errf)
{
	struct conf	 hc;
	int		 i, errors = 0;

	for (i = 0; i < c->nhosts; i++) {
		if (conf_host_conf(c, &c->hosts[i], &hc) != 0) {
			conf_err(errf, file, c->hosts[i].line,
			    "out of memory");
			return -1;
		}
		/* One per line printed, as conf_check promises. */
		errors += -conf_check_one(&hc, file, errf);
		conf_free(&hc);
	}
	return errors > 0 ? -errors : 0;
}

void
conf_hosts_free(struct conf *c)
{
	int	 i, j;

	for (i = 0; i < c->nhosts; i++) {
		free(c->hosts[i].name);
		for (j = 0; j < c->hosts[i].naliases; j++)
			free(c->hosts[i].aliases[j]);
		if (c->hosts[i].set != NULL) {
			conf_free(c->hosts[i].set);
			free(c->hosts[i].set);
		}
	}
	free(c->hosts);
	c->hosts = NULL;
	c->nhosts = 0;
}
