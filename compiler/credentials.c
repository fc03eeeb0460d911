/*
 * credentials.c — the credential scan (guide §7.1): the patterns of
 * stdlib/schema.yaml (`credentials`, compiled by schema.c) searched in text.
 * source.c scans every file before parsing it (cred_scan), so a credential
 * is claimed by the scalar it ends in and masked in every printed source
 * line; diag.c masks every printed message (cred_mask).
 *
 * A match is never empty: an empty match advances one byte, so a scan
 * always ends. Patterns are UTF-8 patterns; cred_scan reads only text its
 * caller has checked is valid UTF-8.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "platformc.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

static bool search(void *re, const char *s, size_t n, size_t from, uint32_t options, size_t *mstart, size_t *mend)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		die_oom();
	int rc = pcre2_match(re, (PCRE2_SPTR)s, n, from, options, md, NULL);
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		*mstart = ov[0];
		*mend = ov[1];
	}
	pcre2_match_data_free(md);
	return rc >= 0;
}

bool cred_search(void *re, const char *s, size_t n, size_t from, size_t *mstart, size_t *mend)
{
	/* the first search of a subject checks it is UTF-8 (a failed check is no
	 * match); later ones from inside it skip the check, which reads the
	 * whole subject each time */
	return search(re, s, n, from, from ? PCRE2_NO_UTF_CHECK : 0, mstart, mend);
}

bool cred_search_utf8(void *re, const char *s, size_t n, size_t from, size_t *mstart, size_t *mend)
{
	return search(re, s, n, from, PCRE2_NO_UTF_CHECK, mstart, mend);
}

static int cmp_raw_end(const void *a, const void *b)
{
	const CredMatch *x = a, *y = b;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* All matches of all patterns in `text`, sorted by end. `text` is valid
 * UTF-8: callers scan only text that passed utf8_valid or was sanitised. */
CredMatch *cred_scan(Arena *a, const Diags *d, const char *text, size_t len, int *n)
{
	CredMatch *out = NULL;
	int cap = 0;
	*n = 0;
	for (int c = 0; c < d->ncreds; c++) {
		size_t from = 0, ms, me;
		while (from <= len && cred_search_utf8(d->creds[c].re, text, len, from, &ms, &me)) {
			if (*n == cap) {
				int nc = cap ? cap * 2 : 8;
				out = arena_grow(a, out, (size_t)cap, (size_t)nc, sizeof *out);
				cap = nc;
			}
			out[(*n)++] = (CredMatch){ms, me > ms ? me : ms + 1, c, false};
			from = me > ms ? me : ms + 1;
		}
	}
	if (*n > 1)
		qsort(out, (size_t)*n, sizeof *out, cmp_raw_end);
	return out;
}

/* Replaces every credential-pattern match in `s` by `****`. Heap result. */
char *cred_mask(const Diags *d, const char *s)
{
	char *cur = xstrdup(s);
	for (int c = 0; c < d->ncreds; c++) {
		size_t from = 0, ms, me, len = strlen(cur);
		StrBuf b;
		sb_init(&b);
		bool any = false;
		while (from <= len && cred_search(d->creds[c].re, cur, len, from, &ms, &me)) {
			sb_putn(&b, cur + from, ms - from);
			sb_puts(&b, "****");
			any = true;
			from = me > ms ? me : ms + 1;
		}
		if (!any) {
			sb_free(&b);
			continue;
		}
		if (from < len)
			sb_puts(&b, cur + from);
		free(cur);
		cur = sb_detach(&b);
	}
	return cur;
}
