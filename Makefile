# Switchboard — one hand-written GNU Makefile (CONVENTIONS.md §18).
#   make            release build: build/release/switchboard
#   make asan       ASan+UBSan build: build/asan/switchboard (what the tests use)
#   make test       unit tests (cmocka) under ASan+UBSan
#   make fuzz       libFuzzer targets (clang) in build/fuzz/
#   make coverage   unit tests with gcov coverage
#   make check-includes / format-check
#   make asr-bench  build/asr_bench (speech recognition figures, docs/PERFORMANCE.md)
#   make transcript-bench  build/transcript_bench (transcripts: WER, RTF, memory)
#   make webrtc-bench  build/webrtc_bench (WebRTC legs: CPU and memory per leg)
#   make media-bench  build/media_bench (bridged + recorded calls on 1..N media workers)
PKGS     := libuv libwebsockets jansson sqlite3 libsodium yaml-0.1 sofia-sip-ua sndfile spandsp espeak-ng speexdsp pocketsphinx sphinxbase libcurl openssl libsrtp2 opus
# Modules still being written are kept out of the build (and their tests and
# fuzzers with them) until they are wired in: `make WIP= ...` builds all.
WIP      ?=
CC       ?= cc
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
PKG_CFL  := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread -ldl -lm
NOT_WIP  := $(foreach d,$(WIP),! -path 'src/$(d)/*')
SRC      := $(shell find src -name '*.c' ! -name main.c $(NOT_WIP) | sort)
HDRS     := $(shell find src -name '*.h')
MIGR     := $(sort $(wildcard src/store/migrations/*.sql))
UNIT     := $(filter-out $(foreach d,$(WIP),tests/unit/test_$(d)%),$(sort $(wildcard tests/unit/test_*.c)))
FUZZ     := $(filter-out $(foreach d,$(WIP),tests/fuzz/fuzz_$(d)%),$(sort $(wildcard tests/fuzz/fuzz_*.c)))

MODE ?= release
ifeq ($(MODE),release)
  OPT := -O2 -g
else ifeq ($(MODE),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(MODE),coverage)
  OPT := -O0 -g --coverage
endif
B       := build/$(MODE)
CFLAGS  := $(CSTD) $(WARN) $(OPT) -Isrc -I$(B)/gen $(PKG_CFL) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(EXTRA_LDFLAGS)
OBJ     := $(SRC:%.c=$(B)/%.o)

.PHONY: all asan ubsan test unit unit-build unit-list fuzz coverage clean check-includes format-check bin asr-bench transcript-bench webrtc-bench media-bench
all: bin
bin: $(B)/switchboard

asan ubsan:
	$(MAKE) MODE=asan bin

$(B)/gen/migrations.h: $(MIGR) tools/embed_sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed_sql.sh $(MIGR) > $@

$(B)/%.o: %.c $(HDRS) $(B)/gen/migrations.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libsb.a: $(OBJ) Makefile
	rm -f $@ && ar rcs $@ $(OBJ)

$(B)/switchboard: $(B)/src/main.o $(B)/libsb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libsb.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libsb.a $(LDFLAGS) $(PKG_LIBS) -lcmocka

unit-build: $(UNIT:tests/unit/%.c=$(B)/tests/%)
unit-list:
	@echo $(UNIT:tests/unit/%.c=$(B)/tests/%)
unit: $(UNIT:tests/unit/%.c=$(B)/tests/%)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

test:
	$(MAKE) MODE=asan bin unit

coverage:
	$(MAKE) MODE=coverage unit

# libFuzzer targets: clang, ASan+UBSan. The library is compiled once with
# coverage instrumentation (fuzzer-no-link) into build/fuzz-obj/libsb.a and
# each target links what it uses from it (not the whole source per target).
FZ_SAN   := -g -O1 -Isrc -Ibuild/fuzz/gen $(PKG_CFL)
FZ_FLAGS := $(CSTD) -fsanitize=fuzzer,address,undefined $(FZ_SAN)
FZ_OBJ   := $(SRC:%.c=build/fuzz-obj/%.o)
fuzz: $(FUZZ:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/gen/migrations.h: $(MIGR) tools/embed_sql.sh
	@mkdir -p $(dir $@)
	sh tools/embed_sql.sh $(MIGR) > $@
build/fuzz-obj/%.o: %.c $(HDRS) build/fuzz/gen/migrations.h
	@mkdir -p $(dir $@)
	clang $(CSTD) -fsanitize=fuzzer-no-link,address,undefined $(FZ_SAN) -c $< -o $@
build/fuzz-obj/libsb.a: $(FZ_OBJ) Makefile
	rm -f $@ && ar rcs $@ $(FZ_OBJ)
build/fuzz/%: tests/fuzz/%.c build/fuzz-obj/libsb.a
	@mkdir -p $(dir $@)
	clang $(FZ_FLAGS) -o $@ $< build/fuzz-obj/libsb.a $(PKG_LIBS)

# The speech recogniser's benchmark (release flags): build/asr_bench, see bench/asr_bench.c.
asr-bench: build/asr_bench
build/asr_bench: bench/asr_bench.c $(filter src/asr/% src/media/g711.c src/core/util.c,$(SRC)) $(HDRS)
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc -o $@ $(filter %.c,$^) $(PKG_CFL) $(PKG_LIBS)

# The transcripts' recogniser benchmark: build/transcript_bench, see bench/transcript_bench.c.
transcript-bench: build/transcript_bench
build/transcript_bench: bench/transcript_bench.c $(filter src/asr/% src/media/g711.c src/core/util.c src/transcript/audio.c,$(SRC)) $(HDRS)
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc -o $@ $(filter %.c,$^) $(PKG_CFL) $(PKG_LIBS)

check-includes:
	sh tools/check_includes.sh

format-check:
	clang-format --dry-run --Werror $(SRC) src/main.c $(filter-out $(foreach d,$(WIP),src/$(d)/%),$(HDRS))

clean:
	rm -rf build

# The media engine's benchmark (release flags): build/media_bench, see bench/media_bench.c.
media-bench: build/media_bench
build/media_bench: bench/media_bench.c $(filter src/media/% src/core/%,$(SRC)) $(HDRS)
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc $(PKG_CFL) -o $@ $< $(filter %.c,$(filter-out $<,$^)) $(PKG_LIBS)

# The WebRTC legs' benchmark (release flags): build/webrtc_bench, see bench/webrtc_bench.c.
webrtc-bench: build/webrtc_bench
build/webrtc_bench: bench/webrtc_bench.c $(filter src/webrtc/% src/media/% src/core/%,$(SRC)) $(HDRS)
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) -O2 -g -Isrc $(PKG_CFL) -o $@ $< $(filter %.c,$(filter-out $<,$^)) $(PKG_LIBS)
