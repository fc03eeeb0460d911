/*
 * scalar.c — parsers for the built-in scalar types of guide §3.1, and the one
 * number formatter every emitter uses.
 *
 * The input is YAML, but scalars are typed by the schema, not by YAML: these
 * functions see the source text and accept exactly one spelling per value
 * where YAML 1.1 would accept many (no octal, hex, `yes`, `.inf`). Nothing
 * here reads the locale: `de_DE` writes 0,5 and output must be the same on
 * every machine, so decimal text is parsed and printed by hand (strtod_l and
 * snprintf run only under an explicit "C" locale).
 */
#include "platformc.h"

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool scalar_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

bool scalar_is_name(const char *s, size_t n)
{
	if (n < 1 || n > MAX_NAME_LEN)
		return false;
	if (s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || scalar_isdigit(c) || c == '-'))
			return false;
	}
	return s[n - 1] != '-';
}

/*
 * Leading zeros are rejected ("0" itself is fine): YAML 1.1 readers take
 * 0755 for octal 493, so a value spelled that way means different numbers
 * to different tools. Refusing it is clearer than picking one reading.
 */
static bool scalar_digits_ok(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!scalar_isdigit(p[i]))
			return false;
	return !(n > 1 && p[0] == '0');
}

bool scalar_int(const char *s, long long *out)
{
	bool neg = false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	size_t n = strlen(s);
	if (!scalar_digits_ok(s, n))
		return false;
	/* accumulate as unsigned so LLONG_MIN is reachable */
	unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	else
		*out = (long long)v;
	return true;
}

/* Exact powers of ten as doubles: 10^k is exactly representable for k <= 22. */
static double scalar_pow10(int k)
{
	double p = 1;
	while (k-- > 0)
		p *= 10;
	return p;
}

/* The "C" locale, created once (by whichever thread needs it first):
 * strtod_l/snprintf must never see the user's LC_NUMERIC. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!c_locale)
		die_oom();
}

static locale_t scalar_c_locale(void)
{
	pthread_once(&c_locale_once, make_c_locale);
	return c_locale;
}

bool scalar_number(const char *s, double *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	const char *ip = p;
	while (scalar_isdigit(*p))
		p++;
	if (!scalar_digits_ok(ip, (size_t)(p - ip)))
		return false;
	const char *fp = NULL;
	if (*p == '.') {
		fp = ++p;
		while (scalar_isdigit(*p))
			p++;
		if (p == fp)
			return false; /* "5." */
	}
	if (*p)
		return false; /* exponent, suffix, hex, space, ... */

	/*
	 * mantissa / 10^k is correctly rounded when both are exact doubles
	 * (mantissa < 2^53, k <= 22): one IEEE division. That covers every
	 * value people write (0.5, 99.95); longer digit strings go to
	 * strtod_l under the C locale, which is also correctly rounded.
	 */
	unsigned long long mant = 0;
	int k = 0;
	bool exact = true;
	for (const char *q = ip; q < p && exact; q++) {
		if (*q == '.')
			continue;
		if (mant > (1ull << 53) / 10) {
			exact = false;
			break;
		}
		mant = mant * 10 + (unsigned)(*q - '0');
		if (fp && q >= fp)
			k++;
	}
	double v;
	if (exact && mant <= (1ull << 53) && k <= 22) {
		v = (double)mant / scalar_pow10(k);
	} else {
		v = strtod_l(ip, NULL, scalar_c_locale());
		if (!isfinite(v))
			return false;
	}
	*out = neg ? -v : v;
	return true;
}

bool scalar_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "false") == 0) {
		*out = false;
		return true;
	}
	return false;
}

bool scalar_quantity(const char *s, long double *out_base_units)
{
	static const struct {
		const char *suffix;
		long double milli; /* multiplier in milli-units */
	} suffixes[] = {
		{ "", 1e3L },
		{ "m", 1.0L },
		{ "k", 1e6L },
		{ "M", 1e9L },
		{ "G", 1e12L },
		{ "T", 1e15L },
		{ "P", 1e18L },
		{ "E", 1e21L },
		{ "Ki", 1024.0L * 1e3L },
		{ "Mi", 1048576.0L * 1e3L },
		{ "Gi", 1073741824.0L * 1e3L },
		{ "Ti", 1099511627776.0L * 1e3L },
		{ "Pi", 1125899906842624.0L * 1e3L },
		{ "Ei", 1152921504606846976.0L * 1e3L },
	};
	const char *p = s;
	long double mant = 0, scale = 1;
	int ndigits = 0;
	/* no sign at all: a negative request or limit is meaningless, and
	 * Kubernetes' `+` is a spelling nobody needs */
	while (scalar_isdigit(*p)) {
		mant = mant * 10 + (*p++ - '0');
		ndigits++;
	}
	if (ndigits == 0)
		return false;
	if (*p == '.') {
		p++;
		int nfrac = 0;
		while (scalar_isdigit(*p)) {
			mant = mant * 10 + (*p++ - '0');
			scale *= 10;
			nfrac++;
		}
		if (nfrac == 0)
			return false;
		ndigits += nfrac;
	}
	if (ndigits > 30)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
		if (strcmp(p, suffixes[i].suffix) == 0) {
			long double v = mant * suffixes[i].milli / scale;
			if (!isfinite(v))
				return false;
			*out_base_units = v;
			return true;
		}
	}
	return false;
}

/* ---- did you mean: the spelling a person probably meant ----
 * Only ever a suggestion for a help line; the value is still rejected. */

/* The number at the start of `s` (digits, an optional fraction, also `.5`)
 * copied into num; returns the text after it, or NULL. */
static const char *suggest_number(const char *s, char *num, size_t n)
{
	const char *p = s;
	size_t k = 0;
	if (*p == '.' && k + 1 < n)
		num[k++] = '0';
	while ((scalar_isdigit(*p) || *p == '.') && k + 1 < n)
		num[k++] = *p++;
	num[k] = 0;
	if (k == 0 || strchr(num, '.') != strrchr(num, '.') || num[k - 1] == '.')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static bool word_is(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (strcasecmp(w, *list) == 0)
			return true;
	return false;
}

bool scalar_quantity_suggest(const char *s, char *out, size_t n)
{
	char num[40], unit[24];
	const char *p = suggest_number(s, num, sizeof num);
	if (!p || strlen(p) >= sizeof unit)
		return false;
	strcpy(unit, p);
	static const char *const bytes[] = {"b", "byte", "bytes", NULL},
				 *const ki[] = {"k", "kb", "kib", "ki", NULL},
				 *const mi[] = {"mb", "mib", "MI", "mI", "Mb", NULL},
				 *const gi[] = {"g", "gb", "gib", "gi", NULL},
				 *const ti[] = {"t", "tb", "tib", "ti", NULL},
				 *const cores[] = {"core", "cores", "cpu", "cpus", "vcpu", "vcpus", NULL},
				 *const milli[] = {"millicore", "millicores", "mcpu", "mc", NULL};
	const char *to = NULL;
	if (word_is(unit, bytes) || word_is(unit, cores))
		to = "";
	else if (word_is(unit, milli))
		to = "m";
	else if (word_is(unit, ki))
		to = "Ki";
	else if (!strcmp(unit, "mi") || word_is(unit, mi))
		to = "Mi";
	else if (word_is(unit, gi))
		to = "Gi";
	else if (word_is(unit, ti))
		to = "Ti";
	else if (!*unit)
		to = "";
	if (!to)
		return false;
	snprintf(out, n, "%s%s", num, to);
	long double v;
	return strcmp(out, s) != 0 && scalar_quantity(out, &v);
}

bool scalar_duration_suggest(const char *s, char *out, size_t n)
{
	static const char *const ms_w[] = {"ms", "msec", "msecs", "millisecond", "milliseconds", NULL},
				 *const s_w[] = {"s", "sec", "secs", "second", "seconds", NULL},
				 *const m_w[] = {"m", "min", "mins", "minute", "minutes", NULL},
				 *const h_w[] = {"h", "hr", "hrs", "hour", "hours", NULL},
				 *const d_w[] = {"d", "day", "days", NULL}, *const w_w[] = {"w", "week", "weeks", NULL};
	static const struct {
		const char *const *words;
		long long ms;
	} units[] = {{ms_w, 1}, {s_w, 1000}, {m_w, 60000}, {h_w, 3600000}, {d_w, 86400000}, {w_w, 7 * 86400000LL}};
	long double total = 0;
	const char *p = s;
	int parts = 0;
	while (*p) {
		char num[40], unit[24];
		p = suggest_number(p, num, sizeof num);
		if (!p)
			return false;
		size_t k = 0;
		while (*p && *p != ' ' && *p != ',' && !scalar_isdigit(*p) && k + 1 < sizeof unit)
			unit[k++] = *p++;
		unit[k] = 0;
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncmp(p, "and ", 4))
			p += 4;
		long long ms = -1;
		for (size_t u = 0; u < ARRAY_LEN(units) && ms < 0; u++)
			if (word_is(unit, units[u].words))
				ms = units[u].ms;
		if (ms < 0)
			return false;
		total += strtold(num, NULL) * ms;
		parts++;
	}
	if (!parts || total < 1 || total > 1e15L || total != (long long)total)
		return false;
	long long left = (long long)total;
	static const struct {
		const char *unit;
		long long ms;
	} order[] = {{"d", 86400000LL}, {"h", 3600000LL}, {"m", 60000LL}, {"s", 1000LL}, {"ms", 1LL}};
	size_t k = 0;
	out[0] = 0;
	for (size_t u = 0; u < ARRAY_LEN(order) && left; u++) {
		if (left < order[u].ms)
			continue;
		int w = snprintf(out + k, n - k, "%lld%s", left / order[u].ms, order[u].unit);
		if (w < 0 || (size_t)w >= n - k)
			return false;
		k += (size_t)w;
		left %= order[u].ms;
	}
	long long check;
	return strcmp(out, s) != 0 && scalar_duration(out, &check);
}

bool scalar_duration(const char *s, long long *out_ms)
{
	/* Prometheus order: each unit at most once, largest first */
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {
		{ "d", 86400000LL }, { "h", 3600000LL }, { "m", 60000LL },
		{ "s", 1000LL },     { "ms", 1LL },
	};
	const char *p = s;
	long long total = 0;
	int next = 0; /* index of the smallest unit still allowed */
	if (!*p)
		return false;
	while (*p) {
		if (!scalar_isdigit(*p))
			return false;
		long long v = 0;
		while (scalar_isdigit(*p)) {
			int d = *p++ - '0';
			if (v > (LLONG_MAX - d) / 10)
				return false;
			v = v * 10 + d;
		}
		int u = -1;
		if (p[0] == 'm' && p[1] == 's')
			u = 4;
		else if (*p == 'd')
			u = 0;
		else if (*p == 'h')
			u = 1;
		else if (*p == 'm')
			u = 2;
		else if (*p == 's')
			u = 3;
		if (u < next)
			return false; /* no unit, unknown unit, or out of order */
		p += strlen(units[u].unit);
		next = u + 1;
		if (v > LLONG_MAX / units[u].ms)
			return false;
		v *= units[u].ms;
		if (total > LLONG_MAX - v)
			return false;
		total += v;
	}
	*out_ms = total;
	return true;
}

bool scalar_date(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !scalar_isdigit(s[i]))
			return false;
	int yy = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int mm = (s[5] - '0') * 10 + (s[6] - '0');
	int dd = (s[8] - '0') * 10 + (s[9] - '0');
	if (yy < 1 || mm < 1 || mm > 12 || dd < 1)
		return false;
	bool leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
	int dim = mdays[mm - 1] + (mm == 2 && leap);
	if (dd > dim)
		return false;
	*y = yy;
	*m = mm;
	*d = dd;
	return true;
}

static bool scalar_hostchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || scalar_isdigit(c) || c == '-';
}

bool scalar_url(const char *s)
{
	if (strncmp(s, "https://", 8) != 0)
		return false;
	const char *h = s + 8, *p = h;
	bool dot = false;
	/* labels of [A-Za-z0-9-], not starting or ending with '-', joined by '.' */
	for (;;) {
		const char *label = p;
		while (scalar_hostchar(*p))
			p++;
		if (p == label || label[0] == '-' || p[-1] == '-')
			return false;
		if (*p != '.')
			break;
		dot = true;
		p++;
	}
	if (!dot && !((size_t)(p - h) == 9 && strncmp(h, "localhost", 9) == 0))
		return false;
	if (*p == ':') {
		const char *port = ++p;
		long v = 0;
		while (scalar_isdigit(*p) && p - port < 6)
			v = v * 10 + (*p++ - '0');
		if (p == port || p - port > 5 || v < 1 || v > 65535)
			return false;
	}
	if (*p && *p != '/' && *p != '?' && *p != '#')
		return false;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/*
 * Shortest digits that read back as the same double: try 1..17 significant
 * digits ("%.*e" and strtod_l, both under the C locale) and keep the first
 * that round-trips. The text is then laid out by hand, so no printf flag or
 * locale decides where the point goes.
 */
void scalar_format_number(double v, char *buf, size_t n)
{
	char out[64];
	size_t o = 0;
	if (!n)
		return;
	if (isnan(v)) {
		snprintf(buf, n, "%s", ".nan");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, n, "%s", v < 0 ? "-.inf" : ".inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, n, "%s", "0"); /* -0 too: one spelling */
		return;
	}
	if (fabs(v) < 9007199254740992.0 && v == (double)(long long)v) {
		/* an integer below 2^53: its own digits are the shortest text
		 * that round-trips, as the search below would find */
		if (v < 0)
			out[o++] = '-';
		o += fmt_uint(out + o, (unsigned long long)(v < 0 ? -v : v));
		out[o] = 0;
		snprintf(buf, n, "%s", out);
		return;
	}
	/* the same few values recur (objectives, burn-rate factors): the
	 * digit search below is done once per value and thread */
	static _Thread_local struct {
		double v;
		char text[32];
	} memo[64];
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	size_t slot = (size_t)((bits * 0x9E3779B97F4A7C15ull) >> 58);
	if (memo[slot].text[0] && memo[slot].v == v) {
		snprintf(buf, n, "%s", memo[slot].text);
		return;
	}
	locale_t c = scalar_c_locale();
	locale_t old = uselocale(c);
	char tmp[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
		if (strtod_l(tmp, NULL, c) == v)
			break;
	}
	uselocale(old);

	/* tmp is "[-]d.ddde[+-]xx": collect the digits and the exponent */
	char digits[32];
	int nd = 0, e10 = 0;
	const char *p = tmp;
	if (*p == '-') {
		out[o++] = '-';
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (scalar_isdigit(*p) && nd < (int)sizeof digits - 1)
			digits[nd++] = *p;
	if (*p == 'e')
		e10 = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;

	if (e10 >= -7 && e10 < 21) {
		/* positional: v = d0.d1d2... x 10^e10 */
		if (e10 < 0) {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -e10 - 1; i++)
				out[o++] = '0';
			for (int i = 0; i < nd; i++)
				out[o++] = digits[i];
		} else {
			for (int i = 0; i <= e10; i++)
				out[o++] = i < nd ? digits[i] : '0';
			if (nd > e10 + 1) {
				out[o++] = '.';
				for (int i = e10 + 1; i < nd; i++)
					out[o++] = digits[i];
			}
		}
		out[o] = 0;
	} else {
		/* "1.0e+21": YAML 1.1 floats need the point and the exponent
		 * sign, or a 1.1 reader takes the text for a string */
		out[o++] = digits[0];
		out[o++] = '.';
		if (nd == 1)
			out[o++] = '0';
		for (int i = 1; i < nd; i++)
			out[o++] = digits[i];
		snprintf(out + o, sizeof out - o, "e%c%d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
	}
	if (strlen(out) < sizeof memo[slot].text) {
		memo[slot].v = v;
		memcpy(memo[slot].text, out, strlen(out) + 1);
	}
	snprintf(buf, n, "%s", out);
}
