# badak — build, test, bench.  `make help` lists the targets.
CC      ?= gcc
# Portable by default (baseline x86-64): the hot loops pick AVX2 / AVX-512 at
# run time (BD_HOT in src/internal.h), OpenBLAS its kernels too.
# OPT="-O3 -march=native" builds for this machine's CPU only (SIGILL on
# another, and under valgrind).
OPT     ?= -O3
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
PNG_CFLAGS  := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS    := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng16)
# PLplot draws the figures (src/plot/ only); the library never links it
PLPLOT_CFLAGS := $(shell pkg-config --cflags plplot 2>/dev/null || echo -I/usr/include/plplot)
PLPLOT_LIBS   := $(shell pkg-config --libs plplot 2>/dev/null || echo -lplplot)
CFLAGS  ?=
# x86-64: the AVX-512 copies of the hot loops use 256-bit vectors, as gcc's
# -march=native does on Intel's AVX-512 CPUs (measured on the max-pool
# backward: 2x faster than 512-bit with generic tuning)
ifneq ($(filter x86_64%,$(shell $(CC) -dumpmachine 2>/dev/null)),)
VEC_CFLAGS := -mprefer-vector-width=256
endif
# -ffp-contract=off: a*b+c never fused into an FMA, so the AVX2/AVX-512 copies
# of the hot loops and -march=native builds compute the same bits as baseline
CFLAGS  += -std=c11 $(OPT) $(VEC_CFLAGS) -fno-math-errno -ffp-contract=off $(WARN) \
           -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(BLAS_CFLAGS) $(PNG_CFLAGS) $(PLPLOT_CFLAGS) -fPIC \
           -fvisibility=hidden $(EXTRA_CFLAGS)
CJSON_CFLAGS := $(shell pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
CJSON_LIBS   := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)
CFLAGS  += $(CJSON_CFLAGS)
# Open MPI: src/dist/ only (data-parallel runs of the command); libbadak never links it
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null || echo -I/usr/lib/x86_64-linux-gnu/openmpi/include)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
# libjpeg (libjpeg-dev: libjpeg62-turbo) reads JPEG photos (src/data/image_color.c)
LDLIBS  := $(BLAS_LIBS) $(PNG_LIBS) $(CJSON_LIBS) -ljpeg -linih -lz -lm $(EXTRA_LDLIBS)

B       ?= build

# The version (from the header), the shared library's names: the file is
# libbadak.so.MAJOR.MINOR.PATCH, its SONAME libbadak.so.MAJOR (docs/api.md)
VERSION := $(shell sed -n 's/^\#define BD_VERSION "\(.*\)"$$/\1/p' include/badak.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME  := libbadak.so.$(SOMAJOR)
SOFILE  := libbadak.so.$(VERSION)

# make install: PREFIX for the paths, DESTDIR to stage them for a package
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL     ?= install
LDCONFIG    ?= ldconfig
# every path make install writes (make uninstall removes exactly these)
INSTALLED := $(BINDIR)/badak $(INCLUDEDIR)/badak.h $(LIBDIR)/libbadak.a $(LIBDIR)/$(SOFILE) \
             $(LIBDIR)/$(SONAME) $(LIBDIR)/libbadak.so $(PKGCONFIGDIR)/badak.pc $(MANDIR)/man1/badak.1
export BADAK_QUICK
LIB_SRC := $(sort $(wildcard src/core/*.c src/layers/*.c src/net/*.c src/optim/*.c \
                             src/train/*.c src/data/*.c src/io/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
DIST_SRC:= $(sort $(wildcard src/dist/*.c))
# the figures: experiments (src/fig/) and PLplot drawing (src/plot/), in
# their own archive linked by the command and the tests, not by libbadak
FIG_SRC := $(sort $(wildcard src/fig/*.c src/plot/*.c))
TEST_SRC:= $(sort $(wildcard tests/test_*.c))
# the book's code in plain C, one program per book file (learn/, docs/learn.md)
LEARN_SRC := $(sort $(wildcard learn/*/*.c))
LEARN   := $(LEARN_SRC:learn/%.c=$(B)/learn/%)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
DIST_OBJ:= $(DIST_SRC:%.c=$(B)/%.o)
FIG_OBJ := $(FIG_SRC:%.c=$(B)/%.o)
TESTS   := $(TEST_SRC:tests/%.c=$(B)/tests/%)
HDRS    := include/badak.h src/internal.h $(wildcard src/cli/*.h src/fig/*.h src/plot/*.h src/io/*.h src/dist/*.h)

.PHONY: all lib cli man learn test test-asan test-tsan check bench bench-compare bench-contended bench-mpi \
        bench-cifar data \
        run clean help examples fuzz fuzz-run install uninstall

all: lib cli examples man learn
lib: $(B)/libbadak.a $(B)/libbadak.so $(B)/$(SONAME)
man: $(B)/badak.1
cli: $(B)/badak
# every program in examples/ (tests/cli_pkg.sh builds each against the installed copy)
examples: $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
learn: $(LEARN)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(DIST_OBJ): CFLAGS += $(MPI_CFLAGS)

$(B)/libbadak.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/$(SOFILE): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LDLIBS) $(EXTRA_LDFLAGS)

$(B)/$(SONAME): $(B)/$(SOFILE)
	ln -sf $(SOFILE) $@

$(B)/libbadak.so: $(B)/$(SONAME)
	ln -sf $(SONAME) $@

$(B)/libbadakfig.a: $(FIG_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/badak: $(CLI_OBJ) $(DIST_OBJ) $(B)/libbadakfig.a $(B)/libbadak.a
	$(CC) $(EXTRA_LDFLAGS) -o $@ $(CLI_OBJ) $(DIST_OBJ) $(B)/libbadakfig.a $(B)/libbadak.a $(PLPLOT_LIBS) $(LDLIBS) $(MPI_LIBS)

$(B)/examples/%: examples/%.c $(B)/libbadak.a include/badak.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(B)/libbadak.a $(LDLIBS)

$(B)/learn/%: learn/%.c learn/learn.h $(wildcard learn/*/*.h) $(B)/libbadak.a include/badak.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ilearn $(EXTRA_LDFLAGS) -o $@ $< $(B)/libbadak.a $(LDLIBS)

$(B)/tests/%: tests/%.c tests/testutil.h $(B)/libbadakfig.a $(B)/libbadak.a $(HDRS) $(wildcard tests/fuzz/*.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(B)/libbadakfig.a $(B)/libbadak.a $(PLPLOT_LIBS) $(LDLIBS) -lcmocka

# badak(1), its COMMANDS section made from the command's own --help texts
$(B)/badak.1: man/badak.1.in scripts/manpage.sh $(B)/badak
	bash scripts/manpage.sh $(B)/badak man/badak.1.in > $@.tmp && mv $@.tmp $@

# badak.pc for pkg-config: libdir and includedir relative to prefix when
# they lie under it (pkg-config --define-prefix can then relocate it)
PC_REL = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
$(B)/badak.pc: badak.pc.in include/badak.h FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call PC_REL,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(call PC_REL,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# make install [PREFIX=/usr/local] [DESTDIR=stage]: the header, both
# libraries, badak.pc, the badak command and badak(1). ldconfig runs only
# for a real install (no DESTDIR), as root.
install: lib cli man $(B)/badak.pc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 755 $(B)/badak $(DESTDIR)$(BINDIR)/badak
	$(INSTALL) -m 644 include/badak.h $(DESTDIR)$(INCLUDEDIR)/badak.h
	$(INSTALL) -m 644 $(B)/libbadak.a $(DESTDIR)$(LIBDIR)/libbadak.a
	$(INSTALL) -m 755 $(B)/$(SOFILE) $(DESTDIR)$(LIBDIR)/$(SOFILE)
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libbadak.so
	$(INSTALL) -m 644 $(B)/badak.pc $(DESTDIR)$(PKGCONFIGDIR)/badak.pc
	$(INSTALL) -m 644 $(B)/badak.1 $(DESTDIR)$(MANDIR)/man1/badak.1
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v $(LDCONFIG) >/dev/null; then \
	    echo "$(LDCONFIG)"; $(LDCONFIG); fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v $(LDCONFIG) >/dev/null; then \
	    echo "$(LDCONFIG)"; $(LDCONFIG); fi

FORCE:

# Unit tests (cmocka), then the CLI / example tests. BADAK_BIN points the
# shell tests at the CLI of this build.
# the ThreadSanitizer program (its rule is below), defined before `test` names it
TSAN_BIN := build/tsan/tsan_predict
# the thread pool's own tests under ThreadSanitizer (tests/cli_par.sh runs it)
TSAN_POOL := build/tsan/test_parallel

test: all $(TESTS) $(TSAN_BIN) $(TSAN_POOL)
	@bash tests/run_tests.sh $(B)

# ThreadSanitizer (gcc): libbadak and tests/tsan_predict.c (4 threads
# predicting on one bd_model) built with -fsanitize=thread into build/tsan/,
# whatever B is; tests/cli_tsan.sh runs it in `make test`.
$(TSAN_BIN): tests/tsan_predict.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g -fsanitize=thread -DBD_NO_CLONES -fno-math-errno -D_DEFAULT_SOURCE \
	  -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(BLAS_CFLAGS) $(PNG_CFLAGS) $(CJSON_CFLAGS) \
	  -o $@ $< $(LIB_SRC) $(LDLIBS)

$(TSAN_POOL): tests/test_parallel.c tests/testutil.h $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g -fsanitize=thread -DBD_NO_CLONES -fno-math-errno -D_DEFAULT_SOURCE \
	  -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(BLAS_CFLAGS) $(PNG_CFLAGS) $(CJSON_CFLAGS) \
	  -o $@ $< $(LIB_SRC) $(LDLIBS) -lcmocka

test-tsan: $(TSAN_BIN) $(TSAN_POOL)
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(TSAN_BIN)
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(TSAN_POOL)

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
FUZZ_TARGETS := idx model netini ckpt csv image cli
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

$(B)/bench/fma_probe: bench/fma_probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

$(B)/bench/fairshare: bench/fairshare.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pthread -o $@ $<

$(B)/bench/forkjoin: bench/forkjoin.c $(B)/libbadak.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pthread -o $@ $< $(B)/libbadak.a $(LDLIBS)

$(B)/bench/flops: bench/flops.c $(B)/libbadak.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libbadak.a $(LDLIBS)

bench: all $(B)/bench/gemm_probe $(B)/bench/flops $(B)/bench/fma_probe
	@bash bench/bench.sh $(B)

# bench-compare: bench with PyTorch side by side (installs Debian's
# python3-torch first if it is missing; never part of the default setup)
bench-compare: all $(B)/bench/gemm_probe $(B)/bench/flops $(B)/bench/fma_probe
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || bash scripts/setup.sh --torch
	@BENCH_TORCH=1 bash bench/bench.sh $(B)

# data parallel (Open MPI): 1 rank x 1 and 2 threads against 2 ranks x 1 thread
bench-mpi: all
	@bash bench/bench_mpi.sh $(B)

# the pool next to one competing busy process (it starts and kills it)
bench-contended: all $(B)/bench/fairshare $(B)/bench/forkjoin
	@bash bench/bench_contended.sh $(B)

# issue 13's CIFAR timings: tobigs_cnn one epoch, resnet18 extrapolated
# from $(BENCH_RESNET_STEPS) steps, PyTorch beside them when installed
bench-cifar: all
	@bash bench/bench_cifar.sh $(B)

data:
	@bash scripts/setup.sh --data-only

clean:
	rm -rf build

help:
	@echo "make            build libbadak.a, libbadak.so.$(VERSION), badak, badak.1, examples (in $(B)/)"
	@echo "make install    PREFIX=/usr/local (default), DESTDIR=stage; make uninstall removes it"
	@echo "                OPT=\"-O3 -march=native\" builds for this CPU only (default: portable)"
	@echo "make learn      the book's code in plain C, one program per book file (build/learn/)"
	@echo "make test       unit + CLI tests (cmocka)"
	@echo "make test-asan  the same under ASan + UBSan"
	@echo "make test-tsan  4 threads predicting on one model, under ThreadSanitizer"
	@echo "make bench      issue 14's workloads: seconds, FLOPs, GFLOP/s, the sgemm floor, ratio"
	@echo "make bench-compare  the same, with PyTorch (python3-torch, installed if missing) side by side"
	@echo "make bench-mpi  data parallel: 1 rank x 1/2 threads vs 2 ranks x 1 thread, allreduce time"
	@echo "make bench-contended  threads 2 vs 1, alone and next to a busy loop"
	@echo "make bench-cifar  tobigs_cnn epoch and resnet18 on random CIFAR-10-format data (+ PyTorch)"
	@echo "make data       install MNIST and Fashion-MNIST into ./data"
	@echo "make fuzz       libFuzzer targets (clang); make fuzz-run FUZZ_SECONDS=60 runs them"
