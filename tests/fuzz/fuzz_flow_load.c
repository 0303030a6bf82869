/*
 * fuzz_flow_load.c — the flow loader on arbitrary bytes: it must either
 * load a flow whose every branch points at a block, or fail with a
 * printable "file:line" message; never crash, leak or read past the input.
 */
#include "flow/flow.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_target(const struct flow *f, int t, bool optional)
{
	CHECK((optional && t == -1) || (t >= 0 && (size_t)t < f->n_blocks));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct flow *f;
	char *b = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	int rc;

	if (!b)
		return 0;
	memcpy(b, data, size);
	rc = flow_load_buf(&f, "fuzz.yaml", b, size, err, sizeof(err));
	free(b);
	if (rc) {
		CHECK(!f && err[0]);
		for (size_t i = 0; err[i]; i++)
			CHECK((unsigned char)err[i] >= 0x20 || err[i] == '\t');
		return 0;
	}
	CHECK(f && f->n_blocks > 0);
	check_target(f, f->start, false);
	for (size_t i = 0; i < f->n_blocks; i++) {
		const struct flow_block *k = &f->blocks[i];
		check_target(f, k->next, true);
		check_target(f, k->no_input, true);
		check_target(f, k->no_match, true);
		check_target(f, k->open, true);
		check_target(f, k->closed, true);
		check_target(f, k->overflow, true);
		check_target(f, k->empty, true);
		check_target(f, k->failed, true);
		for (size_t j = 0; j < k->n_choices; j++)
			check_target(f, k->choices[j].target, false);
		for (size_t j = 0; j < k->n_intents; j++)
			check_target(f, k->intents[j].target, k->intents[j].deflect);
	}
	flow_free(f);
	return 0;
}
