# Builds the libFuzzer targets of tests/fuzz/ with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer, from the same sources the programs are
# built from.  Not an automake file: `make fuzz` (Makefile.am) runs it with
# CLANG, top_srcdir, the libraries' flags and FUZZ_TESTS (the targets to
# build) set.  Objects go to tests/fuzz/obj/ in the build tree.

FUZZ_TESTS ?= tests/fuzz/fuzz_task_request tests/fuzz/fuzz_query \
	tests/fuzz/fuzz_fcgi_headers tests/fuzz/fuzz_llm_parse \
	tests/fuzz/fuzz_artifact_url tests/fuzz/fuzz_totp_code tests/fuzz/fuzz_conf

# What the targets exercise, plus the fuzz helpers and the database stand-in.
# One archive: each target links only the members it needs.
FUZZ_LIB_SOURCES = core/util.c core/buf.c core/log.c core/conf.c core/id.c core/json.c core/arena.c \
	core/timeutil.c core/task.c core/step_output.c core/errcode.c core/crypto.c core/invalid.c core/ssrf.c core/proxy.c core/sign.c core/artifact_url.c core/totp_code.c \
	fcgi/request.c fcgi/task_routes.c fcgi/errors.c agent/llm/parse.c \
	tests/fuzz/fuzz_util.c tests/fuzz/fuzz_fcgi.c tests/fuzz/fuzz_stub_db.c

O = tests/fuzz/obj
FUZZ_SAN = address,undefined
FUZZ_CFLAGS = $(SX_CFLAGS) -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,$(FUZZ_SAN) -fno-sanitize-recover=undefined \
	-I$(top_srcdir)/core -I$(top_srcdir)/fcgi -I$(top_srcdir)/agent \
	-I$(top_srcdir)/agent/llm -I$(top_srcdir)/tests/fuzz \
	$(JSONC_CFLAGS) $(OPENSSL_CFLAGS)
FUZZ_LIBS = $(FCGI_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS) -lm

all: $(FUZZ_TESTS)

$(O)/%.o: $(top_srcdir)/%.c
	@mkdir -p $(@D)
	@echo "  FUZZCC   $<"
	@$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/libsxfuzz.a: $(FUZZ_LIB_SOURCES:%.c=$(O)/%.o)
	@rm -f $@
	@ar rcs $@ $^

tests/fuzz/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(O)/libsxfuzz.a
	@echo "  FUZZLD   $@"
	@$(CLANG) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

-include $(wildcard $(O)/core/*.d $(O)/fcgi/*.d $(O)/agent/llm/*.d $(O)/tests/fuzz/*.d)

.PHONY: all
# The objects of the targets are kept for the next incremental build.
.PRECIOUS: $(O)/%.o
