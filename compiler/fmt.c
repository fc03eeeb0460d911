/*
 * fmt.c — printf for the formats the backends print, without the C library
 * where it can.
 *
 * Nearly every format the backends print joins strings ("%s-%s", PromQL
 * and runbook templates) and a few integers. For those, the C library's
 * vsnprintf costs a stream set-up per call and, to size the result, a
 * second pass: it was a quarter of a render's instructions. fmt_plain_out
 * formats them directly; fmt_is_plain says which formats it takes (the
 * conversions %s %c %d %u %ld %lu %lld %llu %zu %.*s and %%, no flags or
 * widths); any other format goes to vsnprintf, with the same result.
 *
 * fmt_vformat is the one entry point of the buffers that format (StrBuf in
 * util.c, arena_sprintf in arena.c): it asks its caller for room through a
 * callback, so this file allocates nothing and calls no other file. A
 * plain format of up to FMT_PIECES pieces is read once, each string
 * argument measured once (plain_pieces), and the pieces copied into the
 * room; a longer one takes two passes of fmt_plain_out.
 */
#include "platformc.h"

#include <stdio.h>
#include <string.h>

bool fmt_is_plain(const char *fmt)
{
	for (const char *p = strchr(fmt, '%'); p; p = strchr(p, '%')) {
		p++;
		if (*p == '%' || *p == 'c' || *p == 's') {
			p++;
			continue;
		}
		if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
			p += 3;
			continue;
		}
		if (p[0] == 'l' && p[1] == 'l')
			p += 2;
		else if (p[0] == 'l' || p[0] == 'z')
			p++;
		if (*p != 'd' && *p != 'u')
			return false;
		p++;
	}
	return true;
}

size_t fmt_uint(char *out, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (out)
		for (size_t i = 0; i < n; i++)
			out[i] = tmp[n - 1 - i];
	return n;
}

size_t fmt_plain_out(char *out, const char *fmt, va_list ap)
{
	size_t n = 0;
	for (const char *p = fmt;;) {
		const char *pct = strchrnul(p, '%');
		if (out)
			memcpy(out + n, p, (size_t)(pct - p));
		n += (size_t)(pct - p);
		if (!*pct)
			break;
		p = pct + 1;
		const char *s = NULL;
		size_t sl = 0;
		int size = 0; /* 1 long, 2 long long, 3 size_t */
		if (p[0] == '.') {
			sl = (size_t)va_arg(ap, int);
			s = va_arg(ap, const char *);
			sl = strnlen(s, sl);
			p += 3;
		} else {
			if (p[0] == 'l' && p[1] == 'l')
				size = 2, p += 2;
			else if (p[0] == 'l')
				size = 1, p++;
			else if (p[0] == 'z')
				size = 3, p++;
			char c = *p++;
			if (c == 's') {
				s = va_arg(ap, const char *);
				sl = strlen(s);
			} else if (c == '%' || c == 'c') {
				char ch = c == '%' ? '%' : (char)va_arg(ap, int);
				if (out)
					out[n] = ch;
				n++;
				continue;
			} else if (c == 'd') {
				long long v = size == 2 ? va_arg(ap, long long)
					    : size == 1 ? va_arg(ap, long)
					    : size == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
				unsigned long long u = (unsigned long long)v;
				if (v < 0) {
					if (out)
						out[n] = '-';
					n++;
					u = 0 - u;
				}
				n += fmt_uint(out ? out + n : NULL, u);
				continue;
			} else {
				unsigned long long u = size == 2 ? va_arg(ap, unsigned long long)
						     : size == 1 ? va_arg(ap, unsigned long)
						     : size == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned);
				n += fmt_uint(out ? out + n : NULL, u);
				continue;
			}
		}
		if (out)
			memcpy(out + n, s, sl);
		n += sl;
	}
	if (out)
		out[n] = 0;
	return n;
}

/* A plain format's result as pieces: literal runs of the format, string
 * arguments, and numbers and characters written into `num`. */
enum { FMT_PIECES = 24 };
typedef struct FmtPiece {
	const char *s;
	size_t n;
} FmtPiece;

/*
 * One pass over a plain format (fmt_is_plain's grammar): its pieces, at
 * most FMT_PIECES, and their total length in *total; each string argument
 * is measured once. False for any other format, or one of more pieces:
 * then the caller formats the long way, with a fresh copy of its arguments.
 */
static bool plain_pieces(const char *fmt, va_list ap, FmtPiece *pc, int *npc, char (*num)[24], size_t *total)
{
	int np = 0;
	size_t n = 0;
	for (const char *p = fmt;;) {
		const char *pct = strchrnul(p, '%');
		if (pct > p) {
			if (np == FMT_PIECES)
				return false;
			pc[np++] = (FmtPiece){ p, (size_t)(pct - p) };
			n += (size_t)(pct - p);
		}
		if (!*pct)
			break;
		if (np == FMT_PIECES)
			return false;
		p = pct + 1;
		FmtPiece *x = &pc[np];
		char *d = num[np++];
		int size = 0; /* 1 long, 2 long long, 3 size_t */
		if (p[0] == '.' && p[1] == '*' && p[2] == 's') {
			size_t sl = (size_t)va_arg(ap, int);
			x->s = va_arg(ap, const char *);
			x->n = strnlen(x->s, sl);
			p += 3;
		} else {
			if (p[0] == 'l' && p[1] == 'l')
				size = 2, p += 2;
			else if (p[0] == 'l' || p[0] == 'z')
				size = p[0] == 'l' ? 1 : 3, p++;
			char c = *p++;
			if (c == 's' && !size) {
				x->s = va_arg(ap, const char *);
				x->n = strlen(x->s);
			} else if ((c == '%' || c == 'c') && !size) {
				d[0] = c == '%' ? '%' : (char)va_arg(ap, int);
				*x = (FmtPiece){ d, 1 };
			} else if (c == 'd') {
				long long v = size == 2 ? va_arg(ap, long long)
					    : size == 1 ? va_arg(ap, long)
					    : size == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
				unsigned long long u = (unsigned long long)v;
				size_t k = 0;
				if (v < 0)
					d[k++] = '-', u = 0 - u;
				*x = (FmtPiece){ d, k + fmt_uint(d + k, u) };
			} else if (c == 'u') {
				unsigned long long u = size == 2 ? va_arg(ap, unsigned long long)
						     : size == 1 ? va_arg(ap, unsigned long)
						     : size == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned);
				*x = (FmtPiece){ d, fmt_uint(d, u) };
			} else {
				return false;
			}
		}
		n += x->n;
	}
	*npc = np;
	*total = n;
	return true;
}

size_t fmt_vformat(const char *fmt, va_list ap, char *(*room)(void *ctx, size_t n), void *ctx)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t n;
	FmtPiece pc[FMT_PIECES];
	char num[FMT_PIECES][24];
	int np;
	bool one_pass = plain_pieces(fmt, ap2, pc, &np, num, &n);
	va_end(ap2);
	if (one_pass) {
		char *out = room(ctx, n);
		for (int i = 0; i < np; i++) {
			memcpy(out, pc[i].s, pc[i].n);
			out += pc[i].n;
		}
		*out = 0;
		return n;
	}
	va_copy(ap2, ap);
	if (fmt_is_plain(fmt)) {
		n = fmt_plain_out(NULL, fmt, ap2);
		fmt_plain_out(room(ctx, n), fmt, ap);
	} else {
		int len = vsnprintf(NULL, 0, fmt, ap2);
		n = len > 0 ? (size_t)len : 0;
		vsnprintf(room(ctx, n), n + 1, fmt, ap);
	}
	va_end(ap2);
	return n;
}
