# nook: one non-recursive Makefile.
#   make            build build/nook
#   make test       prepare the machine (ci/prepare.sh), unit + integration tests
#   make unit       unit tests only (cmocka; no privileges)
#   make integration  integration tests (as the unprivileged test users when root)
#   make asan       unit and integration tests under AddressSanitizer+UBSan
#   make bench      nook vs bwrap vs podman (builds: vs ch-image too), medians and ratios
#   make fuzz       each libFuzzer target for FUZZ_SECONDS
#   make lint       headers, include directions, CLOEXEC, shellcheck, check-conformance
#   make sync-conformance  refresh tests/data/conformance from the founding data set (ci/conformance.sh)
#   make install PREFIX=/usr/local DESTDIR=
#   knobs: SAN=address,undefined  RELEASE=1  O=build-dir  STATIC_DEPS=0

O ?= build
CC ?= gcc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
PKG_CONFIG ?= pkg-config
# libarchive, libcurl and nettle are only compiled against: imagefmt/archive_dl.c,
# imagefmt/curl_dl.c and imagefmt/digest.c load them on first use, so starting a
# container does not pay for libxml2, ICU, libstdc++, OpenSSL and the rest, nor for
# nettle's CPU probe.
PKGS := libseccomp libcap jansson yaml-0.1 libdeflate
PKGS_CFLAGS_ONLY := libarchive libcurl nettle
FUZZ_SECONDS ?= 20

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(PKGS_CFLAGS_ONLY) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wjump-misses-init -Wvla
CFLAGS ?= -O2 -g
ifeq ($(RELEASE),1)
CFLAGS += -D_FORTIFY_SOURCE=3 -Werror
endif
ifneq ($(SAN),)
CFLAGS += -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SAN)
endif
ifeq ($(CI),true)
CFLAGS += -Werror
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
# The three small libraries are linked statically by default: resolving their
# symbols at every start cost ~0.6 ms of a `nook run` here (perf stat, 40 runs).
# STATIC_DEPS=0 links them dynamically (then distribution updates apply at once).
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS),1)
LIBS := -Wl,-Bstatic $(PKG_LIBS) -Wl,-Bdynamic -ldl -lutil
else
LIBS := $(PKG_LIBS) -ldl -lutil
endif

LIBSRC := $(sort $(wildcard util/*.c sandbox/*.c imagefmt/*.c imagefmt/*/*.c net/*.c \
	cmd/*.c cmd/*/*.c))
LIBSRC := $(filter-out cmd/nook.c,$(LIBSRC))
# Code locality: what a container's settled supervisor and init run (and the init's set-up)
# first in the archive, so mostly first in the binary, together: the rest (build, compose,
# registries, images) is not interleaved with it.  Each such process keeps mapped the pages
# of code and data it touched (and the page cache's folios around them): the idle
# supervisor + init of one container, 1662-1807 -> 1480-1595 kB of PSS (the binary's pages
# in them 2088-2176 -> 1880-1984 kB); tests/bench/lifecycle.sh 1730 -> 1639 kB.
HOTSRC := $(filter $(addsuffix %,util/ sandbox/ net/ cmd/supervise cmd/logfile cmd/health \
	cmd/events cmd/freezer cmd/lifecycle cmd/records cmd/run cmd/netns cmd/netrec),$(LIBSRC))
LIBOBJ := $(patsubst %.c,$(O)/%.o,$(HOTSRC) $(filter-out $(HOTSRC),$(LIBSRC)))
UNITSRC := $(sort $(wildcard tests/unit/test_*.c))
UNITBIN := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNITSRC))
FUZZSRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZREPLAY := $(patsubst tests/fuzz/%.c,$(O)/tests/fuzz/replay_%,$(FUZZSRC))
FUZZBIN := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZSRC))
BENCHSRC := $(sort $(wildcard tests/bench/bench_*.c))
BENCHBIN := $(patsubst tests/bench/%.c,$(O)/tests/bench/%,$(BENCHSRC))
HEADERS := $(sort $(wildcard util/*.h sandbox/*.h imagefmt/*.h imagefmt/*/*.h net/*.h cmd/*.h cmd/*/*.h))

.PHONY: all test unit integration asan bench fuzz fuzz-build fuzz-replay install clean demo prepare \
	lint fmt fmt-check check-headers check-includes check-conformance sync-conformance \
	check-no-hooks deps
all: $(O)/nook $(O)/probe $(O)/nook-testhooks

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The Compose Specification's schema is assembled into the loader (.incbin).
$(O)/cmd/compose/schema.o $(O)/fuzzobj/cmd/compose/schema.o: cmd/compose/compose-spec.json

$(O)/libnook.a: $(LIBOBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/nook: $(O)/cmd/nook.o $(O)/libnook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The test build: the same nook with the synchronisation points of util/test_hook.h
# compiled in (only the files that have one are compiled again); build/nook has none.
# Only integration tests that need a point run it (NOOK_HOOKED).
TESTHOOK_SRC := util/test_hook.c cmd/run.c cmd/supervise.c cmd/wait.c cmd/netns.c cmd/netns_holder.c sandbox/userns_keep.c sandbox/run.c \
	sandbox/child.c imagefmt/registry_pull.c imagefmt/archive_load.c imagefmt/store.c net/helper.c
TESTHOOK_OBJ := $(patsubst %.c,$(O)/testhooks/%.o,$(TESTHOOK_SRC))
$(O)/testhooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DNOOK_TEST_HOOKS -c -o $@ $<

$(O)/nook-testhooks: $(O)/cmd/nook.o $(TESTHOOK_OBJ) $(O)/libnook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The release binary must hold no hook (the hook reads this variable).
check-no-hooks: $(O)/nook
	@! grep -q NOOK_TEST_HOOK_DIR $(O)/nook || { echo "$(O)/nook has a test hook"; exit 1; }
	@echo "$(O)/nook: no test hooks"

# The static probe: a multi-call helper copied into test rootfses (crun's tests/init.c idea).
$(O)/probe: tests/helpers/probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -Wall -static -o $@ $<

# Tests may build tars with libarchive directly.
ARCHIVE_LIBS := $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null)
$(O)/tests/unit/%: $(O)/tests/unit/%.o $(O)/libnook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(ARCHIVE_LIBS) -lcmocka

$(O)/tests/bench/%: $(O)/tests/bench/%.o $(O)/libnook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/fuzz/replay_%: $(O)/tests/fuzz/%.o $(O)/tests/fuzz/replay.o $(O)/libnook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/fuzz/replay.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# libFuzzer builds use clang and their own object tree.
# libFuzzer builds: the libraries (not the CLI) compiled once with clang into
# their own archive, then one binary per target.
# (and the Compose loader's pure files: no CLI in them)
FUZZLIBSRC := $(filter-out cmd/%,$(LIBSRC)) $(filter-out cmd/compose/compose.c cmd/compose/up.c,$(filter cmd/compose/%,$(LIBSRC)))
FUZZFLAGS := -std=gnu11 -D_GNU_SOURCE -I. -g -O1 $(PKG_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined
# (dependency files so a changed header rebuilds the objects: a struct that grew a field
# once left stale objects that read garbage)
FUZZDEPFLAGS := -MMD -MP
$(O)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(FUZZDEPFLAGS) -c -o $@ $<
$(O)/fuzz/libnook-fuzz.a: $(patsubst %.c,$(O)/fuzzobj/%.o,$(FUZZLIBSRC))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^
$(O)/fuzz/%: tests/fuzz/%.c $(O)/fuzz/libnook-fuzz.a
	clang $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< $(O)/fuzz/libnook-fuzz.a $(PKG_LIBS) $(ARCHIVE_LIBS) -ldl -lutil

unit: $(UNITBIN) $(FUZZREPLAY)
	@tests/run-unit.sh $(O)

integration: $(O)/nook $(O)/probe $(O)/nook-testhooks
	@tests/run-integration.sh $(O)

prepare:
	@ci/prepare.sh

test: prepare
	@$(MAKE) --no-print-directory all $(UNITBIN) $(FUZZREPLAY)
	@$(MAKE) --no-print-directory lint
	@NOOK_TEST_FREEZER="$$(cat /run/nook-test-freezer 2>/dev/null)" tests/run-all.sh $(O)

asan:
	$(MAKE) O=$(O)-asan SAN=address,undefined CC=$(CC) all $(patsubst $(O)/%,$(O)-asan/%,$(UNITBIN) $(FUZZREPLAY))
	ASAN_OPTIONS=detect_leaks=0 NOOK_ASAN=1 tests/run-all.sh $(O)-asan

fuzz: $(FUZZBIN)
	@tests/run-fuzz.sh $(O) $(FUZZ_SECONDS)

fuzz-build: $(FUZZBIN)

bench: all $(BENCHBIN)
	@tests/bench/bench.sh $(O)
	@tests/bench/lifecycle.sh $(O) || echo "bench: the lifecycle benchmark could not run"
	@tests/bench/build.sh $(O) || echo "bench: the build benchmark could not run"
	@tests/bench/compose.sh $(O) || echo "bench: the compose benchmark could not run"

demo:
	@ci/deps.sh
	@$(MAKE) --no-print-directory all
	@ci/demo.sh $(O)

install: $(O)/nook
	install -D -m 0755 $(O)/nook $(DESTDIR)$(BINDIR)/nook

check-headers:
	@set -e; for h in $(HEADERS); do \
		printf '#include "%s"\n' $$h | $(CC) $(ALL_CFLAGS) -fsyntax-only -x c - || { echo "header $$h does not compile alone"; exit 1; }; \
	done; echo "headers: $(words $(HEADERS)) compile alone"

check-includes:
	@ci/check-includes.sh

# tests/data/conformance is a copy of part of the data set the project was founded with
# (ci/conformance.sh says where); where that set exists, lint checks the copy is identical.
check-conformance:
	@ci/conformance.sh check

sync-conformance:
	@ci/conformance.sh sync

lint: check-headers check-includes check-conformance check-no-hooks
	shellcheck -S warning tests/*.sh tests/integration/*.sh ci/*.sh tests/bench/*.sh

fmt:
	clang-format -i $(LIBSRC) cmd/nook.c $(HEADERS)

fmt-check:
	@clang-format --dry-run --Werror $(LIBSRC) cmd/nook.c $(HEADERS)

clean:
	rm -rf $(O) $(O)-asan

-include $(shell find $(O) -name '*.d' 2>/dev/null)
