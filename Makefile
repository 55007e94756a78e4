# badak — build, test, bench.  `make help` lists the targets.
CC      ?= gcc
OPT     ?= -O3 -march=native
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
PNG_CFLAGS  := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS    := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng16)
# PLplot draws the figures (src/plot/ only); the library never links it
PLPLOT_CFLAGS := $(shell pkg-config --cflags plplot 2>/dev/null || echo -I/usr/include/plplot)
PLPLOT_LIBS   := $(shell pkg-config --libs plplot 2>/dev/null || echo -lplplot)
CFLAGS  ?=
CFLAGS  += -std=c11 $(OPT) -fno-math-errno $(WARN) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
           -Iinclude -Isrc $(BLAS_CFLAGS) $(PNG_CFLAGS) $(PLPLOT_CFLAGS) -fPIC $(EXTRA_CFLAGS)
CJSON_CFLAGS := $(shell pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
CJSON_LIBS   := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)
CFLAGS  += $(CJSON_CFLAGS)
# libjpeg (libjpeg-dev: libjpeg62-turbo) reads JPEG photos (src/data/image_color.c)
LDLIBS  := $(BLAS_LIBS) $(PNG_LIBS) $(CJSON_LIBS) -ljpeg -linih -lz -lm $(EXTRA_LDLIBS)

B       ?= build
export BADAK_QUICK
LIB_SRC := $(sort $(wildcard src/core/*.c src/layers/*.c src/net/*.c src/optim/*.c \
                             src/train/*.c src/data/*.c src/io/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
# the figures: experiments (src/fig/) and PLplot drawing (src/plot/), in
# their own archive linked by the command and the tests, not by libbadak
FIG_SRC := $(sort $(wildcard src/fig/*.c src/plot/*.c))
TEST_SRC:= $(sort $(wildcard tests/test_*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
FIG_OBJ := $(FIG_SRC:%.c=$(B)/%.o)
TESTS   := $(TEST_SRC:tests/%.c=$(B)/tests/%)
HDRS    := include/badak.h src/internal.h $(wildcard src/cli/*.h src/fig/*.h src/plot/*.h src/io/*.h)

.PHONY: all lib cli test test-asan check bench bench-contended data run clean help examples fuzz fuzz-run

all: lib cli examples
lib: $(B)/libbadak.a $(B)/libbadak.so
cli: $(B)/badak
examples: $(B)/examples/mnist_train $(B)/examples/transfer_mnist

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libbadak.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libbadak.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS) $(EXTRA_LDFLAGS)

$(B)/libbadakfig.a: $(FIG_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/badak: $(CLI_OBJ) $(B)/libbadakfig.a $(B)/libbadak.a
	$(CC) $(EXTRA_LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libbadakfig.a $(B)/libbadak.a $(PLPLOT_LIBS) $(LDLIBS)

$(B)/examples/%: examples/%.c $(B)/libbadak.a include/badak.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(B)/libbadak.a $(LDLIBS)

$(B)/tests/%: tests/%.c tests/testutil.h $(B)/libbadakfig.a $(B)/libbadak.a $(HDRS) $(wildcard tests/fuzz/*.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(B)/libbadakfig.a $(B)/libbadak.a $(PLPLOT_LIBS) $(LDLIBS) -lcmocka

# Unit tests (cmocka), then the CLI / example tests. BADAK_BIN points the
# shell tests at the CLI of this build.
test: all $(TESTS)
	@bash tests/run_tests.sh $(B)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan:
	$(MAKE) B=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" BADAK_QUICK=1 test

check: test test-asan

# Fuzzing (libFuzzer, clang from Debian): `make fuzz` builds one binary per
# target in tests/fuzz/, `make fuzz-run FUZZ_SECONDS=N` runs each for N
# seconds from its corpus (new inputs go to build/fuzz/corpus_<t>; add the
# ones worth keeping to tests/fuzz/corpus/<t>/, which `make test` replays).
FUZZ_CC      ?= clang
FUZZ_TARGETS := idx model netini
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -DBD_LIBFUZZER \
                -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(BLAS_CFLAGS) $(CJSON_CFLAGS)

fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus_$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus_$$t tests/fuzz/corpus/$$t || exit 1; done

# bench/: the GEMM probe (the floor) and the FLOP counter bench.sh uses
$(B)/bench/gemm_probe: bench/gemm_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BLAS_LIBS)

$(B)/bench/flops: bench/flops.c $(B)/libbadak.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libbadak.a $(LDLIBS)

bench: all $(B)/bench/gemm_probe $(B)/bench/flops
	@bash bench/bench.sh $(B)

# the pool next to one competing busy process (it starts and kills it)
bench-contended: all
	@bash bench/bench_contended.sh $(B)

data:
	@bash scripts/setup.sh --data-only

clean:
	rm -rf build

help:
	@echo "make            build libbadak.a, libbadak.so, badak, examples (in $(B)/)"
	@echo "make test       unit + CLI tests (cmocka)"
	@echo "make test-asan  the same under ASan + UBSan"
	@echo "make bench      issue 14's workloads: seconds, FLOPs, GFLOP/s, the sgemm floor, ratio"
	@echo "make bench-contended  threads 2 vs 1, alone and next to a busy loop"
	@echo "make data       install MNIST and Fashion-MNIST into ./data"
	@echo "make fuzz       libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=60 runs them"
