/* test_monitoring.c — the escapes of monitoring.c: what reaches PromQL,
 * Alertmanager templates and Markdown from the input (guide §7.1). */
#include "platformc.h"
#include "unit.h"

#include <stdlib.h>

typedef void (*escape_fn)(StrBuf *, const char *);

static char *esc(escape_fn f, const char *s)
{
	StrBuf b;
	sb_init(&b);
	f(&b, s);
	return sb_detach(&b);
}

#define CHECK_ESC(f, in, want)                   \
	do {                                     \
		char *got_ = esc((f), (in));     \
		CHECK_STR(got_, (want));         \
		free(got_);                      \
	} while (0)

TEST(promql_quote_escapes_quotes_backslashes_and_controls)
{
	CHECK_ESC(promql_quote, "user-service", "\"user-service\"");
	CHECK_ESC(promql_quote, "", "\"\"");
	CHECK_ESC(promql_quote, "a\"b", "\"a\\\"b\"");
	CHECK_ESC(promql_quote, "a\\d", "\"a\\\\d\"");
	CHECK_ESC(promql_quote, "x\"} or vector(1) #", "\"x\\\"} or vector(1) #\"");
	CHECK_ESC(promql_quote, "l1\nl2\tt\r", "\"l1\\nl2\\tt\\r\"");
	CHECK_ESC(promql_quote, "\x01\x7f", "\"\\x01\\x7f\"");
	CHECK_ESC(promql_quote, "ünïcode ✓", "\"ünïcode ✓\""); /* UTF-8 passes through */
}

TEST(promql_regex_quote_makes_a_literal)
{
	CHECK_ESC(promql_regex_quote, "team-dev", "\"team-dev\"");
	/* RE2 metacharacters are escaped, then the backslashes for the string */
	CHECK_ESC(promql_regex_quote, "a.b", "\"a\\\\.b\"");
	CHECK_ESC(promql_regex_quote, "a|b(c)*+?[]{}^$", "\"a\\\\|b\\\\(c\\\\)\\\\*\\\\+\\\\?\\\\[\\\\]\\\\{\\\\}\\\\^\\\\$\"");
	CHECK_ESC(promql_regex_quote, "\\", "\"\\\\\\\\\"");
	CHECK_ESC(promql_regex_quote, "\"", "\"\\\"\"");
	CHECK_ESC(re2_escape, ".*", "\\.\\*");
}

TEST(gotmpl_escape_defuses_every_action)
{
	CHECK_ESC(gotmpl_escape, "plain text } {", "plain text } {");
	CHECK_ESC(gotmpl_escape, "{{ .Secret }}", "{{ \"{{\" }} .Secret }}");
	CHECK_ESC(gotmpl_escape, "{{- template \"x\" -}}", "{{ \"{{\" }}- template \"x\" -}}");
	/* three braces: the first two open the escape, the third is text */
	CHECK_ESC(gotmpl_escape, "{{{", "{{ \"{{\" }}{");
	CHECK_ESC(gotmpl_escape, "a{{b{{c", "a{{ \"{{\" }}b{{ \"{{\" }}c");
	CHECK_ESC(gotmpl_escape, "$labels {{$value}}", "$labels {{ \"{{\" }}$value}}");
	CHECK_ESC(gotmpl_escape, "", "");
}

TEST(md_escape_keeps_html_and_markup_out)
{
	CHECK_ESC(md_escape, "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	CHECK_ESC(md_escape, "a & b", "a &amp; b");
	CHECK_ESC(md_escape, "*x* _y_ `z` [l](u) | # !", "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\| \\# \\!");
	CHECK_ESC(md_escape, "two\nlines", "two lines");
}

TEST(monitoring_camel_is_injective_over_names)
{
	Arena *a = arena_new();
	CHECK_STR(monitoring_camel(a, "user-service"), "UserService");
	CHECK_STR(monitoring_camel(a, "api"), "Api");
	CHECK_STR(monitoring_camel(a, "api2"), "Api2");
	CHECK_STR(monitoring_camel(a, "api-2"), "Api_2");
	CHECK_STR(monitoring_camel(a, "a--b"), "A_B");
	CHECK_STR(monitoring_camel(a, "ab-c"), "AbC");
	CHECK_STR(monitoring_camel(a, "a-bc"), "ABc");
	arena_free(a);
}

TEST(monitoring_uid_fits_grafana_and_stays_distinct)
{
	Arena *a = arena_new();
	const char *long_name = "svc-a-very-long-service-name-that-goes-on-production";
	const char *u1 = monitoring_uid(a, long_name, "service/a-very-long-service-name-that-goes-on/production");
	const char *u2 = monitoring_uid(a, long_name, "service/a-very-long-service-name-that-goes-on/staging");
	CHECK(strlen(u1) <= 40);
	CHECK(strcmp(u1, u2) != 0);
	CHECK_STR(monitoring_uid(a, "team-x", "team/x"), monitoring_uid(a, "team-x", "team/x")); /* deterministic */
	/* a cut never leaves a dash before the hash's dash */
	const char *u3 = monitoring_uid(a, "abcdefghijklmnopqrstuvwxyzab-cdef", "k");
	CHECK(strstr(u3, "--") == NULL);
	arena_free(a);
}

TEST(monitoring_expand_gives_the_annotation_prometheus_sends)
{
	Arena *a = arena_new();
	DNode *labels = doc_map(a);
	doc_set_str(a, labels, "namespace", "shop-dev");
	doc_set_str(a, labels, "pod", "api-0");
	CHECK_STR(monitoring_expand(a, "{{ $labels.namespace }}/{{ $labels.pod }} is not ready", labels, "1"), "shop-dev/api-0 is not ready");
	CHECK_STR(monitoring_expand(a, "uses {{ $value | humanizePercentage }} of {{ $labels.resource }}", labels, "95%"), "uses 95% of ");
	CHECK_STR(monitoring_expand(a, "runs at {{ $value | printf \"%.0f\" }} USD", labels, "2190"), "runs at 2190 USD");
	/* gotmpl_escape's output prints the text as written */
	char *escaped = esc(gotmpl_escape, "a {{ literal }} b");
	CHECK_STR(monitoring_expand(a, escaped, labels, ""), "a {{ literal }} b");
	free(escaped);
	CHECK_STR(monitoring_expand(a, "no actions, {{ unclosed", labels, ""), "no actions, {{ unclosed");
	arena_free(a);
}
