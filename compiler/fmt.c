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
 * callback, so this file allocates nothing and calls no other file.
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

size_t fmt_vformat(const char *fmt, va_list ap, char *(*room)(void *ctx, size_t n), void *ctx)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t n;
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
