/* test_scalar.c — the built-in scalar types of guide §3.1 and number formatting. */
#include "platformc.h"
#include "unit.h"

#include <locale.h>
#include <limits.h>

static bool name_ok(const char *s)
{
	return scalar_is_name(s, strlen(s));
}

TEST(scalar_name)
{
	char buf[80];
	CHECK(name_ok("a"));
	CHECK(name_ok("backend-dev"));
	CHECK(name_ok("a1"));
	CHECK(name_ok("user-service-2"));
	CHECK(name_ok("a--b"));
	memset(buf, 'a', 63);
	buf[63] = 0;
	CHECK(name_ok(buf));
	buf[63] = 'a';
	buf[64] = 0;
	CHECK(!name_ok(buf));
	CHECK(!name_ok(""));
	CHECK(!name_ok("Backend"));
	CHECK(!name_ok("backEnd"));
	CHECK(!name_ok("backend-"));
	CHECK(!name_ok("-backend"));
	CHECK(!name_ok("1abc"));
	CHECK(!name_ok("a..b"));
	CHECK(!name_ok("a.b"));
	CHECK(!name_ok("a/b"));
	CHECK(!name_ok("a_b"));
	CHECK(!name_ok("a b"));
	CHECK(!name_ok("é"));
	/* the length argument bounds the check, not the NUL */
	CHECK(scalar_is_name("abc-", 3));
}

TEST(scalar_int)
{
	long long v = 99;
	CHECK(scalar_int("0", &v) && v == 0);
	CHECK(scalar_int("16", &v) && v == 16);
	CHECK(scalar_int("-5", &v) && v == -5);
	CHECK(scalar_int("+5", &v) && v == 5);
	CHECK(scalar_int("-0", &v) && v == 0);
	CHECK(scalar_int("9223372036854775807", &v) && v == LLONG_MAX);
	CHECK(scalar_int("-9223372036854775808", &v) && v == LLONG_MIN);
	CHECK(!scalar_int("9223372036854775808", &v));
	CHECK(!scalar_int("-9223372036854775809", &v));
	CHECK(!scalar_int("99999999999999999999999", &v));
	CHECK(!scalar_int("", &v));
	CHECK(!scalar_int("-", &v));
	CHECK(!scalar_int("0755", &v)); /* YAML 1.1 octal: ambiguous, refused */
	CHECK(!scalar_int("007", &v));
	CHECK(!scalar_int("0x10", &v));
	CHECK(!scalar_int("0o17", &v));
	CHECK(!scalar_int("1_000", &v));
	CHECK(!scalar_int("1.0", &v));
	CHECK(!scalar_int("1e3", &v));
	CHECK(!scalar_int(".inf", &v));
	CHECK(!scalar_int(" 1", &v));
	CHECK(!scalar_int("1 ", &v));
	CHECK(!scalar_int("++1", &v));
}

TEST(scalar_number)
{
	double v = 99;
	CHECK(scalar_number("0.5", &v) && v == 0.5);
	CHECK(scalar_number("-1.25", &v) && v == -1.25);
	CHECK(scalar_number("16", &v) && v == 16);
	CHECK(scalar_number("+2", &v) && v == 2);
	CHECK(scalar_number("99.9", &v) && v == 99.9);
	CHECK(scalar_number("99.95", &v) && v == 99.95);
	CHECK(scalar_number("99.999", &v) && v == 99.999);
	CHECK(scalar_number("0.1", &v) && v == 0.1);
	CHECK(scalar_number("0", &v) && v == 0);
	CHECK(scalar_number("1.10", &v) && v == 1.1);
	/* more digits than fit the exact path: still correctly rounded */
	CHECK(scalar_number("3.14159265358979323846", &v) && v == 3.14159265358979323846);
	CHECK(scalar_number("123456789012345678901234567890", &v) && v == 123456789012345678901234567890.0);
	CHECK(!scalar_number("1e3", &v));
	CHECK(!scalar_number("1E3", &v));
	CHECK(!scalar_number(".5", &v));
	CHECK(!scalar_number("5.", &v));
	CHECK(!scalar_number("0x10", &v));
	CHECK(!scalar_number(".inf", &v));
	CHECK(!scalar_number("-.inf", &v));
	CHECK(!scalar_number(".nan", &v));
	CHECK(!scalar_number("inf", &v));
	CHECK(!scalar_number("nan", &v));
	CHECK(!scalar_number("0,5", &v));
	CHECK(!scalar_number("1.2.3", &v));
	CHECK(!scalar_number("00.5", &v));
	CHECK(!scalar_number("", &v));
	CHECK(!scalar_number("-", &v));
	CHECK(!scalar_number("1_000", &v));
}

TEST(scalar_bool)
{
	bool b = false;
	CHECK(scalar_bool("true", &b) && b);
	CHECK(scalar_bool("false", &b) && !b);
	CHECK(!scalar_bool("yes", &b));
	CHECK(!scalar_bool("no", &b));
	CHECK(!scalar_bool("True", &b));
	CHECK(!scalar_bool("on", &b));
	CHECK(!scalar_bool("1", &b));
	CHECK(!scalar_bool("", &b));
}

TEST(scalar_quantity)
{
	long double v = 0;
	CHECK(scalar_quantity("250m", &v) && v == 250);
	CHECK(scalar_quantity("0.5", &v) && v == 500);
	CHECK(scalar_quantity("2", &v) && v == 2000);
	CHECK(scalar_quantity("1.5", &v) && v == 1500);
	CHECK(scalar_quantity("512Mi", &v) && v == 512.0L * 1024 * 1024 * 1000);
	CHECK(scalar_quantity("1Gi", &v) && v == 1024.0L * 1024 * 1024 * 1000);
	CHECK(scalar_quantity("1G", &v) && v == 1e9L * 1000);
	CHECK(scalar_quantity("128Ki", &v) && v == 128.0L * 1024 * 1000);
	CHECK(scalar_quantity("1k", &v) && v == 1e6L);
	CHECK(scalar_quantity("1Ei", &v) && v == 1152921504606846976.0L * 1000);
	CHECK(scalar_quantity("0", &v) && v == 0);
	CHECK(!scalar_quantity("1.5.5", &v));
	CHECK(!scalar_quantity("-1", &v));
	CHECK(!scalar_quantity("+1", &v));
	CHECK(!scalar_quantity("1Qi", &v));
	CHECK(!scalar_quantity("1K", &v)); /* Kubernetes spells kilo `k` */
	CHECK(!scalar_quantity("1e3", &v));
	CHECK(!scalar_quantity("1E3", &v));
	CHECK(!scalar_quantity("", &v));
	CHECK(!scalar_quantity("Mi", &v));
	CHECK(!scalar_quantity("1 Mi", &v));
	CHECK(!scalar_quantity(" 1", &v));
	CHECK(!scalar_quantity("1.", &v));
	CHECK(!scalar_quantity("1Mib", &v));
}

TEST(scalar_duration)
{
	long long ms = 0;
	CHECK(scalar_duration("300ms", &ms) && ms == 300);
	CHECK(scalar_duration("5s", &ms) && ms == 5000);
	CHECK(scalar_duration("1m", &ms) && ms == 60000);
	CHECK(scalar_duration("2h", &ms) && ms == 7200000);
	CHECK(scalar_duration("30d", &ms) && ms == 30LL * 86400000);
	CHECK(scalar_duration("1h30m", &ms) && ms == 5400000);
	CHECK(scalar_duration("1d2h3m4s5ms", &ms) && ms == 86400000 + 7200000 + 180000 + 4000 + 5);
	CHECK(scalar_duration("0s", &ms) && ms == 0);
	CHECK(!scalar_duration("5", &ms));
	CHECK(!scalar_duration("1x", &ms));
	CHECK(!scalar_duration("m", &ms));
	CHECK(!scalar_duration("", &ms));
	CHECK(!scalar_duration("30m1h", &ms)); /* out of order */
	CHECK(!scalar_duration("1m1m", &ms));  /* repeated */
	CHECK(!scalar_duration("1.5h", &ms));
	CHECK(!scalar_duration("-5s", &ms));
	CHECK(!scalar_duration("5 s", &ms));
	CHECK(!scalar_duration("1h30", &ms));
	CHECK(!scalar_duration("99999999999999999999d", &ms));
	CHECK(!scalar_duration("9999999999999999d", &ms)); /* fits as a count, not in ms */
}

TEST(scalar_date)
{
	int y = 0, m = 0, d = 0;
	CHECK(scalar_date("2024-02-29", &y, &m, &d) && y == 2024 && m == 2 && d == 29);
	CHECK(scalar_date("2000-02-29", &y, &m, &d));
	CHECK(scalar_date("2024-12-31", &y, &m, &d) && m == 12 && d == 31);
	CHECK(!scalar_date("2023-02-29", &y, &m, &d));
	CHECK(!scalar_date("1900-02-29", &y, &m, &d));
	CHECK(!scalar_date("2024-13-01", &y, &m, &d));
	CHECK(!scalar_date("2024-00-01", &y, &m, &d));
	CHECK(!scalar_date("2024-04-31", &y, &m, &d));
	CHECK(!scalar_date("2024-01-00", &y, &m, &d));
	CHECK(!scalar_date("2024-1-01", &y, &m, &d));
	CHECK(!scalar_date("2024-01-01T00:00:00Z", &y, &m, &d));
	CHECK(!scalar_date("24-01-01", &y, &m, &d));
	CHECK(!scalar_date("", &y, &m, &d));
	CHECK(!scalar_date("2024/01/01", &y, &m, &d));
}

TEST(scalar_url)
{
	CHECK(scalar_url("https://example.com"));
	CHECK(scalar_url("https://example.com/"));
	CHECK(scalar_url("https://grafana.example.com/d/abc?orgId=1#x"));
	CHECK(scalar_url("https://localhost:8443/path"));
	CHECK(scalar_url("https://x.y/z"));
	CHECK(scalar_url("https://Example.COM:443"));
	CHECK(!scalar_url("http://example.com"));
	CHECK(!scalar_url("https://"));
	CHECK(!scalar_url("https://localhostx"));
	CHECK(!scalar_url("https://intranet/x"));
	CHECK(!scalar_url("https://a..b"));
	CHECK(!scalar_url("https://.a.b"));
	CHECK(!scalar_url("https://a.b."));
	CHECK(!scalar_url("https://-a.b"));
	CHECK(!scalar_url("https://a_b.c"));
	CHECK(!scalar_url("https://a.b:"));
	CHECK(!scalar_url("https://a.b:0"));
	CHECK(!scalar_url("https://a.b:65536"));
	CHECK(!scalar_url("https://a.b/with space"));
	CHECK(!scalar_url("https://a.b/tab\there"));
	CHECK(!scalar_url("https://user@a.b"));
	CHECK(!scalar_url("ftp://a.b"));
	CHECK(!scalar_url(" https://a.b"));
}

static const char *fmt(double v)
{
	static char buf[64];
	scalar_format_number(v, buf, sizeof buf);
	return buf;
}

TEST(scalar_format_number)
{
	CHECK_STR(fmt(0.5), "0.5");
	CHECK_STR(fmt(16), "16");
	CHECK_STR(fmt(99.9), "99.9");
	CHECK_STR(fmt(99.95), "99.95");
	CHECK_STR(fmt(-2.25), "-2.25");
	CHECK_STR(fmt(0), "0");
	CHECK_STR(fmt(-0.0), "0");
	CHECK_STR(fmt(0.1), "0.1");
	CHECK_STR(fmt(0.1 + 0.2), "0.30000000000000004");
	CHECK_STR(fmt(1e15), "1000000000000000");
	CHECK_STR(fmt(123456.789), "123456.789");
	CHECK_STR(fmt(0.001), "0.001");
	CHECK_STR(fmt(1e-7), "0.0000001");
	/* integers (a short path below 2^53, the digit search above it) */
	CHECK_STR(fmt(-7), "-7");
	CHECK_STR(fmt(9007199254740991.0), "9007199254740991");
	CHECK_STR(fmt(-9007199254740991.0), "-9007199254740991");
	CHECK_STR(fmt(9007199254740992.0), "9007199254740992");
	CHECK_STR(fmt(1e20), "100000000000000000000");
	CHECK_STR(fmt(4.5e15), "4500000000000000");
	/* exponent form only far out, spelled so a YAML 1.1 reader sees a float */
	CHECK_STR(fmt(1e21), "1.0e+21");
	CHECK_STR(fmt(1.5e-8), "1.5e-8");
	CHECK_STR(fmt(-2.5e300), "-2.5e+300");
	/* tiny buffer: truncated, still terminated */
	char small[3];
	scalar_format_number(99.95, small, sizeof small);
	CHECK_STR(small, "99");
}

/* Parse then format is the identity on canonical text. */
TEST(scalar_number_roundtrip)
{
	static const char *const texts[] = { "0.5", "16", "99.9", "99.95", "-2.25", "0.001",
					     "1234.5678", "0.30000000000000004", "-7" };
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		double v;
		CHECK(scalar_number(texts[i], &v));
		CHECK_STR(fmt(v), texts[i]);
	}
}

/* A comma-decimal locale must change nothing (skipped when none is installed). */
TEST(scalar_locale_independent)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "de_DE" };
	const char *set = NULL;
	for (size_t i = 0; i < ARRAY_LEN(names) && !set; i++)
		set = setlocale(LC_NUMERIC, names[i]);
	double v = 0;
	CHECK(scalar_number("0.5", &v) && v == 0.5);
	CHECK(!scalar_number("0,5", &v));
	CHECK_STR(fmt(99.95), "99.95");
	CHECK_STR(fmt(1e21), "1.0e+21");
	CHECK(scalar_number("3.14159265358979323846", &v) && v == 3.14159265358979323846);
	setlocale(LC_NUMERIC, "C");
}

/* the did-you-mean of a rejected quantity or duration: always a valid spelling */
static bool qs(const char *in, const char *want)
{
	char b[64];
	bool ok = scalar_quantity_suggest(in, b, sizeof b);
	return want ? ok && strcmp(b, want) == 0 : !ok;
}

static bool ds(const char *in, const char *want)
{
	char b[64];
	bool ok = scalar_duration_suggest(in, b, sizeof b);
	return want ? ok && strcmp(b, want) == 0 : !ok;
}

TEST(scalar_suggest)
{
	CHECK(qs("512MB", "512Mi"));
	CHECK(qs("512mb", "512Mi"));
	CHECK(qs("1gb", "1Gi"));
	CHECK(qs("2 GiB", "2Gi"));
	CHECK(qs("1 Gi", "1Gi"));
	CHECK(qs("64KB", "64Ki"));
	CHECK(qs("500 millicores", "500m"));
	CHECK(qs("2 cores", "2"));
	CHECK(qs(".5", "0.5"));
	CHECK(qs("512Mi", NULL)); /* already valid */
	CHECK(qs("lots", NULL));
	CHECK(qs("1..5Gi", NULL));
	CHECK(ds("30 seconds", "30s"));
	CHECK(ds("0.3s", "300ms"));
	CHECK(ds("1.5h", "1h30m"));
	CHECK(ds("30S", "30s"));
	CHECK(ds("1h 30m", "1h30m"));
	CHECK(ds("30m1h", "1h30m"));
	CHECK(ds("1 week", "7d"));
	CHECK(ds("5sec", "5s"));
	CHECK(ds("1m30s", NULL)); /* already valid */
	CHECK(ds("30", NULL));    /* no unit: no guess */
	CHECK(ds("0.0001ms", NULL));
	CHECK(ds("soon", NULL));
}
