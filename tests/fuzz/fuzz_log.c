/*
 * fuzz_log: log_quote() and log_safe() (lib/log.c), the escaping every
 * value a client chose passes on its way into a log line.  The input (up
 * to its first NUL) is written into buffers of several sizes.
 * Invariants:
 * - nothing is written past the buffer, and the result is a string;
 * - SECURITY: log forging: log_quote() gives either the input itself, a
 *   non-empty word of [A-Za-z0-9._@/+:,~-], or one double-quoted value
 *   of printable ASCII with no '"' inside, so no input can end its field
 *   early, add a field or a line; log_safe() gives printable ASCII
 *   without '"' or a raw '\';
 * - with room for LOG_QUOTE_SIZE(len) bytes nothing is cut, and undoing
 *   the \xHH escapes gives the input back byte for byte; a cut value
 *   ends in "..." (quoted: inside the quotes).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"

#define CANARY		0xa5
#define SLACK		16

static int
word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("._@/+:,~-",
	    c) != NULL);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Undoes the escapes of s[0..n) into out (room for n + 1); every '\'
 * must start a well-formed \xHH.  Returns the decoded length.
 */
static size_t
unescape(const char *s, size_t n, char *out)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		FUZZ_CHECK(i + 3 < n + 1 && s[i + 1] == 'x');
		hi = hexval(s[i + 2]);
		lo = hexval(s[i + 3]);
		FUZZ_CHECK(hi >= 0 && lo >= 0);
		out[o++] = (char)(hi << 4 | lo);
		i += 3;
	}
	out[o] = '\0';
	return o;
}

/* Printable ASCII without '"'; a '\' only as \xHH. */
static void
check_escaped(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] < 0x7f && s[i] != '"');
		if (s[i] == '\\')
			FUZZ_CHECK(i + 3 < n && s[i + 1] == 'x' &&
			    hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0);
	}
}

static void
check_one(const char *in, size_t len, size_t size, int quote)
{
	char	*buf, *dec;
	size_t	 i, n, full;
	int	 cut;

	FUZZ_CHECK((buf = malloc(size + SLACK)) != NULL);
	FUZZ_CHECK((dec = malloc(size + 1)) != NULL);
	memset(buf, CANARY, size + SLACK);
	if (quote)
		FUZZ_CHECK(log_quote(buf, size, in) == buf);
	else
		FUZZ_CHECK(log_safe(buf, size, in) == buf);
	for (i = size; i < size + SLACK; i++)
		FUZZ_CHECK((unsigned char)buf[i] == CANARY);
	n = strnlen(buf, size);
	FUZZ_CHECK(n < size);
	full = quote ? LOG_QUOTE_SIZE(len) : len * 4 + 1;
	if (quote && n > 0 && buf[0] != '"') {
		/* Bare: the input itself, a word. */
		FUZZ_CHECK(n == len && memcmp(buf, in, len) == 0);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(word_char((unsigned char)buf[i]));
	} else if (quote && n > 0) {
		FUZZ_CHECK(n >= 2 && buf[n - 1] == '"');
		check_escaped(buf + 1, n - 2);
		cut = n >= 5 && memcmp(buf + n - 4, "...", 3) == 0;
		if (size >= full) {
			FUZZ_CHECK(unescape(buf + 1, n - 2, dec) == len);
			FUZZ_CHECK(memcmp(dec, in, len) == 0);
		} else
			FUZZ_CHECK(cut || unescape(buf + 1, n - 2, dec) ==
			    len);
	} else if (quote)
		/* Empty only when the buffer is too small for anything. */
		FUZZ_CHECK(size < 8);
	else {
		check_escaped(buf, n);
		if (size >= full) {
			FUZZ_CHECK(unescape(buf, n, dec) == len);
			FUZZ_CHECK(memcmp(dec, in, len) == 0);
		}
	}
	free(dec);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 sizes[] = { 0, 1, 4, 7, 8, 9, 12, 16, 33,
				    LOG_VALUE_MAX };
	char			*in;
	size_t			 i, len;

	if ((in = fuzz_strdup(data, size)) == NULL)
		return 0;
	len = strlen(in);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > 0) {
			check_one(in, len, sizes[i], 1);
			check_one(in, len, sizes[i], 0);
		}
	}
	check_one(in, len, LOG_QUOTE_SIZE(len), 1);
	check_one(in, len, len * 4 + 1, 0);
	free(in);
	return 0;
}
