# scrub - one build for the policy compiler, the VM and its hosts.
#
#   make                 build/scrubc, build/scrub, build/libscrub.a
#   make check           everything CI runs: check-fast, check-asan,
#                        check-valgrind and fuzz-ci, one after the other
#   make check-fast      every test (unit, end-to-end, equivalence, JSON
#                        suite, error paths, fuzz regressions): the quick loop
#   make check-asan      the same suite built with ASan and UBSan
#   make check-valgrind  the same suite under valgrind (fewer mutants and
#                        allocation failure points)
#   make fuzz-ci         each fuzz target for FUZZ_CI_SECONDS (60),
#                        FUZZ_JOBS (2) targets at a time
#   make demo            the main job on the bundled example
#   make lambda POLICY=F build/lambda/scrub-lambda.zip: bootstrap, policy F
#                        compiled, and the shared libraries it needs
#   make bench           throughput against ../shared/bench (ratios)
#   make fuzz            run the libFuzzer targets (FUZZ_SECONDS each, 60)
#   make install PREFIX=/usr/local
#
# SANITIZE=1 builds into build-asan/ with -fsanitize=address,undefined.

CC ?= cc
PREFIX ?= /usr/local
# The project's reference material (bench, corpora, samples): beside the
# checkout, as in the workplace and in CI, unless SHARED says otherwise.
SHARED ?= $(firstword $(wildcard ../shared /work/shared) ../shared)

ifeq ($(FUZZ),1)
# libFuzzer needs clang; the library is instrumented for coverage too.
CC := clang
BUILD ?= build-fuzz
OPT ?= -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link \
	-fsanitize=address,undefined -fno-sanitize-recover=all
LDOPT ?= -fsanitize=address,undefined
else ifeq ($(SANITIZE),1)
BUILD ?= build-asan
OPT ?= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
LDOPT ?= -fsanitize=address,undefined
else
BUILD ?= build
OPT ?= -O2
LDOPT ?=
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers
VERSION := 0.1.0
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE -DSCRUB_VERSION='"$(VERSION)"' \
	-g $(OPT) $(WARN) -MMD -MP \
	-I$(BUILD)/gen -Idsl $(CFLAGS)
LIBS := -lcjson -lpcre2-8 -lsodium -lxxhash -lunistring -lm -lpthread
# The scrub command alone reads gzip and talks HTTP (PutEvents).
CLI_LIBS := -lcurl -lz
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

GEN := $(BUILD)/gen
VM_SRC := $(wildcard vm/*.c)
DSL_SRC := $(wildcard dsl/*.c)
# scrubc's commands print, so they stay out of the library.
SCRUBC_SRC := compiler/scrubc.c $(wildcard compiler/scrubc_*.c)
SCRUBC_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(SCRUBC_SRC))
CC_SRC := $(filter-out $(SCRUBC_SRC),$(wildcard compiler/*.c))
RT_SRC := $(wildcard runtime/*.c)
CLI_SRC := $(wildcard runtime/cli/*.c)
CLI_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRC))
LAMBDA_SRC := $(wildcard runtime/lambda/*.c)
LAMBDA_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LAMBDA_SRC))
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
# The bootstrap finds its bundled libraries in lib/ beside it, ahead of
# LD_LIBRARY_PATH (DT_RPATH, not DT_RUNPATH): the zip runs with the
# libraries it was tested with, not whatever the image has in /usr/lib64.
LAMBDA_RPATH := -Wl,--disable-new-dtags,-rpath,'$$ORIGIN/lib'

LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(VM_SRC) $(DSL_SRC) $(CC_SRC) \
	$(RT_SRC)) $(GEN)/parser.o $(GEN)/lexer.o
UNIT_SRC := $(wildcard tests/unit/check_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_TARGETS := compile bytecode sealed run json ndjson
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz-%)
REPLAY_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay-%)
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 60

all: $(BUILD)/scrubc $(BUILD)/scrub $(BUILD)/libscrub.a $(BUILD)/bootstrap

# ---- generated lexer and parser ------------------------------------------

# One run makes both files (&:), so a parallel make runs each tool once.
$(GEN)/parser.c $(GEN)/parser.h &: dsl/parser.y | $(GEN)
	bison -Wall -Werror --defines=$(GEN)/parser.h -o $(GEN)/parser.c $<

$(GEN)/lexer.c $(GEN)/lexer.h &: dsl/lexer.l $(GEN)/parser.h | $(GEN)
	flex --header-file=$(GEN)/lexer.h -o $(GEN)/lexer.c $<

# Flex's and bison's own code is not ours to keep warning-free.
$(GEN)/%.o: $(GEN)/%.c
	$(CC) $(CFLAGS_ALL) -Wno-unused-function -Wno-sign-compare \
		-Wno-missing-prototypes -Wno-shadow -c -o $@ $<

$(GEN):
	mkdir -p $@

# ---- our code -------------------------------------------------------------

$(BUILD)/%.o: %.c | $(GEN)/parser.h $(GEN)/lexer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libscrub.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/scrubc: $(SCRUBC_OBJ) $(BUILD)/libscrub.a
	$(CC) $(LDOPT) -o $@ $^ $(LIBS)

$(BUILD)/scrub: $(CLI_OBJ) $(BUILD)/libscrub.a
	$(CC) $(LDOPT) -o $@ $^ $(LIBS) $(CLI_LIBS)

$(BUILD)/bootstrap: $(LAMBDA_OBJ) $(BUILD)/libscrub.a
	$(CC) $(LDOPT) $(LAMBDA_RPATH) -o $@ $^ $(CURL_LIBS) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libscrub.a
	@mkdir -p $(dir $@)
	$(CC) $(LDOPT) -o $@ $^ $(LIBS) $(CHECK_LIBS)

# The replay driver's parts live in the scrub command, not the library.
$(BUILD)/tests/check_replay: $(BUILD)/tests/unit/check_replay.o \
		$(filter-out $(BUILD)/runtime/cli/main.o,$(CLI_OBJ)) \
		$(BUILD)/libscrub.a
	@mkdir -p $(dir $@)
	$(CC) $(LDOPT) -o $@ $^ $(LIBS) $(CLI_LIBS) $(CHECK_LIBS)

# Objects before the library, whatever order the prerequisites come in:
# the linker takes from an archive only what the objects before it need.
LINK_ORDER = $(filter-out %.a,$^) $(filter %.a,$^)

# The fuzz targets: libFuzzer binaries (FUZZ=1 builds), and replay
# drivers that run saved inputs with any compiler (the regression inputs
# run in every test build).
$(BUILD)/fuzz/fuzz-%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/libscrub.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer $(LDOPT) -o $@ $(LINK_ORDER) $(LIBS)

# The line reader lives with the command line, and reads gzip.
$(BUILD)/fuzz/fuzz-ndjson $(BUILD)/fuzz/replay-ndjson: \
	$(BUILD)/runtime/cli/common.o
$(BUILD)/fuzz/fuzz-ndjson $(BUILD)/fuzz/replay-ndjson: LIBS += -lz

$(BUILD)/fuzz/replay-%: $(BUILD)/tests/fuzz/fuzz_%.o \
		$(BUILD)/tests/fuzz/replay.o $(BUILD)/libscrub.a
	@mkdir -p $(dir $@)
	$(CC) $(LDOPT) -o $@ $(LINK_ORDER) $(LIBS)

# ---- tests ------------------------------------------------------------------

# Each part runs after the one before; the first failure stops `check`.
# The three builds compile JOBS files at a time (default: one per core);
# the tests themselves run one after another.
JOBS ?= $(shell nproc 2> /dev/null || echo 2)
check:
	$(MAKE) -j$(JOBS) check-fast
	$(MAKE) -j$(JOBS) check-asan
	$(MAKE) -j$(JOBS) check-valgrind
	$(MAKE) -j$(JOBS) fuzz-ci

check-fast: all $(UNIT_BIN) $(REPLAY_BIN)
	tests/run_all.sh $(BUILD) $(SHARED)

check-asan:
	SCRUB_SANITIZED=1 $(MAKE) SANITIZE=1 check-fast

check-valgrind: all $(UNIT_BIN) $(REPLAY_BIN)
	VALGRIND=1 tests/run_all.sh $(BUILD) $(SHARED)

demo: all
	@scripts/demo.sh $(BUILD)

lambda: all
	@test -n "$(POLICY)" || { echo "usage: make lambda POLICY=FILE" >&2; \
		exit 2; }
	scripts/package-lambda.sh $(BUILD) "$(POLICY)" \
		$(BUILD)/lambda/scrub-lambda.zip

bench: all
	bench/run.sh $(BUILD) $(SHARED)

# Each fuzz target for FUZZ_SECONDS (default 60), after its regression
# inputs; any crash, leak or timeout fails. fuzz-ci is the short run.
fuzz: fuzz-build
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The targets need clang's libFuzzer: always the FUZZ=1 build.
ifeq ($(FUZZ),1)
fuzz-build: all $(FUZZ_BIN)
else
fuzz-build:
	$(MAKE) FUZZ=1 fuzz-build
endif

fuzz-ci:
	$(MAKE) FUZZ_SECONDS=$(FUZZ_CI_SECONDS) fuzz

# ---- install -----------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/scrubc $(BUILD)/scrub $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libscrub.a $(DESTDIR)$(PREFIX)/lib
	install -m 644 runtime/scrub.h $(DESTDIR)$(PREFIX)/include

clean:
	rm -rf build build-asan

.PHONY: all check check-fast check-asan check-valgrind demo lambda bench \
	install clean fuzz fuzz-build fuzz-ci
.SECONDARY:

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(LAMBDA_OBJ:.o=.d) \
	$(SCRUBC_OBJ:.o=.d) \
	$(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d) \
	$(wildcard $(BUILD)/tests/fuzz/*.d)
