# platformc — plain GNU make. `make render` and `make test` work on a fresh
# Debian machine: missing packages are installed with apt-get when run as
# root, otherwise the exact command is printed.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -D_GNU_SOURCE -pthread
PKGS    := libfyaml yaml-0.1 libpcre2-8 libxxhash
DEB_PKGS := libfyaml-dev libyaml-dev libpcre2-dev libjsmn-dev libxxhash-dev pkg-config
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
BUILD   ?= build

SRCS    := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
OBJS    := $(SRCS:compiler/%.c=$(BUILD)/%.o) $(BUILD)/embed.o
EMBED   := $(sort $(wildcard stdlib/*.yaml stdlib/*.json catalog/*/kind.yaml))
UNIT_SRCS := $(wildcard tests/unit/*.c)
EXAMPLES := $(patsubst examples/%/platform.yaml,%,$(wildcard examples/*/platform.yaml))

.PHONY: all deps render test unit install uninstall graphs asan asan-build tsan fuzz fuzz-long fuzz-build fuzz-expr valgrind clang-deps bench clean

all: $(BUILD)/platformc

# ---- dependencies (Debian packages only; nothing vendored or downloaded) ----
$(BUILD)/.deps: Makefile  # re-checked when the package list changes
	@mkdir -p $(BUILD)
	@missing=""; \
	for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || missing=1; done; \
	[ -f /usr/include/jsmn.h ] || missing=1; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing build dependencies: $(DEB_PKGS)"; \
	    (apt-get install -y -qq --no-install-recommends $(DEB_PKGS) >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEB_PKGS))) || exit 1; \
	  else \
	    echo "platformc needs these Debian packages; run:"; \
	    echo "  sudo apt-get install -y --no-install-recommends $(DEB_PKGS)"; exit 1; \
	  fi; \
	fi
	@touch $@

deps: $(BUILD)/.deps

$(BUILD)/embedgen: compiler/tools/embedgen.c | $(BUILD)/.deps
	$(CC) -O1 -o $@ $<

$(BUILD)/embed.c: $(BUILD)/embedgen $(EMBED)
	$(BUILD)/embedgen $@ $(EMBED)

$(BUILD)/embed.o: $(BUILD)/embed.c compiler/platformc.h
	$(CC) $(CFLAGS) $(WARN) -Icompiler -c -o $@ $<

$(BUILD)/%.o: compiler/%.c compiler/platformc.h $(BUILD)/.deps
	$(CC) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/platformc: $(OBJS) $(BUILD)/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# flags that only some compilers know (clang has no -Wformat-truncation)
cc-option = $(shell $(CC) -Werror $(1) -x c -c -o /dev/null /dev/null >/dev/null 2>&1 && echo $(1))

$(BUILD)/unit: $(OBJS) $(UNIT_SRCS) tests/unit/unit.h
	$(CC) $(CFLAGS) $(WARN) -Wno-missing-prototypes $(call cc-option,-Wno-format-truncation) $(PKG_CFLAGS) -Icompiler -Itests/unit \
	  -o $@ $(UNIT_SRCS) $(OBJS) $(PKG_LIBS)

# ---- the two commands of the README ----
render: $(BUILD)/platformc
	@mkdir -p out
	@for ex in $(EXAMPLES); do \
	  echo "render examples/$$ex -> out/$$ex"; \
	  $(BUILD)/platformc render examples/$$ex/platform.yaml -o out/$$ex || exit $$?; \
	done

test: $(BUILD)/platformc $(BUILD)/unit
	@bash tests/run.sh

unit: $(BUILD)/unit
	$(BUILD)/unit

# ---- developer targets ----
# The sanitizer build and the fuzzer also run inside `make test` (groups
# `asan` and `fuzz` of tests/run.sh); these targets build them and run them
# on their own. clang is used when present; as root a missing clang (and its
# runtime libraries, which hold libFuzzer) is installed from Debian; without
# it the sanitizer build falls back to gcc (the fuzzer needs clang).
CLANG_PKGS := clang libclang-rt-dev
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

clang-deps:
	@if ! command -v clang >/dev/null 2>&1 || \
	    ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' | \
	      clang -fsanitize=fuzzer,address -x c -o /dev/null - >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing clang with libFuzzer and the sanitizer runtimes: $(CLANG_PKGS)"; \
	    (apt-get install -y -qq --no-install-recommends $(CLANG_PKGS) >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq --no-install-recommends $(CLANG_PKGS) >/dev/null)) || exit 1; \
	  else \
	    echo "clang with libFuzzer is missing; run:"; \
	    echo "  sudo apt-get install -y --no-install-recommends $(CLANG_PKGS)"; exit 1; \
	  fi; \
	fi

# build-asan/platformc and build-asan/unit: ASan + UBSan, any sanitizer report aborts
asan-build: $(BUILD)/.deps
	@[ "$$(id -u)" != 0 ] || command -v clang >/dev/null 2>&1 || $(MAKE) --no-print-directory clang-deps
	$(MAKE) --no-print-directory BUILD=build-asan CC=$$(command -v clang >/dev/null && echo clang || echo gcc) CFLAGS="-O1 -g $(SAN_FLAGS)" \
	  LDFLAGS="$(SAN_FLAGS)" build-asan/platformc build-asan/unit

# unit tests, diagnostics cases, golden trees, determinism and hostile inputs
# under the sanitizers (one line per group)
asan: asan-build
	@TESTS_ONLY='^asan$$' bash tests/run.sh

# memcheck over every verb on the examples and every error case (minutes)
valgrind: $(BUILD)/platformc
	@bash tests/valgrind.sh

# build-tsan/platformc: ThreadSanitizer over the front end's threads (par.c);
# tests/threads.sh compares 1, 2 and 8 threads with it, any report aborts
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
tsan: $(BUILD)/.deps
	@[ "$$(id -u)" != 0 ] || command -v clang >/dev/null 2>&1 || $(MAKE) --no-print-directory clang-deps
	$(MAKE) --no-print-directory BUILD=build-tsan CC=$$(command -v clang >/dev/null && echo clang || echo gcc) CFLAGS="-O1 -g $(TSAN_FLAGS)" \
	  LDFLAGS="$(TSAN_FLAGS)" build-tsan/platformc
	@out=$$(PLATFORMC=$(CURDIR)/build-tsan/platformc TSAN_OPTIONS="halt_on_error=1:exitcode=66" \
	  bash tests/threads.sh build-tsan 2>&1); rc=$$?; echo "$$out"; [ $$rc -eq 0 ] && ! echo "$$out" | grep -q '^FAIL'

# build-fuzz/fuzz_NAME: one libFuzzer binary per tests/fuzz/fuzz_NAME.c (a new
# harness is a new file); tests/fuzz/run.sh seeds and runs them
FUZZERS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJS := $(patsubst compiler/%.c,build-fuzz/%.o,$(SRCS)) build-fuzz/embed.o
fuzz-build: clang-deps $(BUILD)/.deps
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(SAN_FLAGS)" $(FUZZERS)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) compiler/platformc.h
	clang -O1 -g -fsanitize=fuzzer $(SAN_FLAGS) $(PKG_CFLAGS) -Icompiler -o $@ \
	  $< $(FUZZ_OBJS) $(PKG_LIBS)

# every harness for FUZZ_SECONDS (short) or FUZZ_LONG_SECONDS (long) each;
# corpora grow in build-fuzz/corpus-NAME, findings land in build-fuzz/findings/
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 600
fuzz: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)
fuzz-long: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_LONG_SECONDS)

fuzz-expr: fuzz-build
	clang -O1 -g -fsanitize=fuzzer $(SAN_FLAGS) $(PKG_CFLAGS) -Icompiler -o build-fuzz/fuzz_expr \
	  tests/fuzz/fuzz_expr.c $(FUZZ_OBJS) $(PKG_LIBS)
	mkdir -p build-fuzz/corpus-expr && grep -ho "rule: '[^']*'\|when: '[^']*'\|monthly: '[^']*'" catalog/*/kind.yaml | \
	  cut -d"'" -f2 | split -l1 - build-fuzz/corpus-expr/seed-
	build-fuzz/fuzz_expr -timeout=5 -rss_limit_mb=2048 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build-fuzz/corpus-expr

BENCH_N ?= 1000 10000
bench: $(BUILD)/platformc
	@bash tests/bench/bench.sh $(BENCH_N)

# ---- install: the binary, the man page and the bash completion ----
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

install: $(BUILD)/platformc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/platformc $(DESTDIR)$(BINDIR)/platformc
	install -m 644 docs/platformc.1 $(DESTDIR)$(MANDIR)/man1/platformc.1
	$(BUILD)/platformc completion bash > $(DESTDIR)$(BASHCOMPDIR)/platformc
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/platformc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/platformc $(DESTDIR)$(MANDIR)/man1/platformc.1 $(DESTDIR)$(BASHCOMPDIR)/platformc

# docs/examples-<ex>.{dot,mmd} from `platformc graph`, and .svg when Graphviz is installed
graphs: $(BUILD)/platformc
	@for ex in $(EXAMPLES); do \
	  $(BUILD)/platformc graph examples/$$ex/platform.yaml > docs/examples-$$ex.dot || exit $$?; \
	  $(BUILD)/platformc graph examples/$$ex/platform.yaml --format mermaid > docs/examples-$$ex.mmd || exit $$?; \
	  if command -v dot >/dev/null 2>&1; then dot -Tsvg docs/examples-$$ex.dot > docs/examples-$$ex.svg; \
	  else echo "Graphviz missing: docs/examples-$$ex.svg not redrawn (apt-get install graphviz)"; fi; \
	done

clean:
	rm -rf build build-asan build-tsan build-fuzz
