/*
 * test_flow.c — the flow loader: a complete flow with every block kind
 * loads into the expected graph; a corpus of broken flows each fails with
 * the expected "file:line: block: message".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "flow/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char full[] =
	"name: main\n"
	"start: greet\n"
	"blocks:\n"
	"  greet:\n"
	"    kind: play\n"
	"    text: \"Hello {caller.first_name}, welcome.\"\n"
	"    next: open\n"
	"  open:\n"
	"    kind: hours\n"
	"    timezone: Europe/Paris\n"
	"    weekly:\n"
	"      mon-fri: \"08:00-12:00, 13:00-18:00\"\n"
	"      sat: \"09:00-12:00\"\n"
	"      sun: closed\n"
	"    holidays: [\"2026-12-25\", \"2027-01-01\"]\n"
	"    open: menu\n"
	"    closed: closed-msg\n"
	"  menu:\n"
	"    kind: menu\n"
	"    text: For support press 1, for billing press 2, to tell us, press 3.\n"
	"    choices: {\"1\": support, \"2\": billing, \"3\": bot}\n"
	"    timeout: 4\n"
	"    retries: 1\n"
	"    no_input: support\n"
	"    no_match: menu\n"
	"  bot:\n"
	"    kind: bot\n"
	"    text: How can I help?\n"
	"    threshold: 55\n"
	"    intents:\n"
	"      case-status:\n"
	"        phrases: [what is the status of my case, case status]\n"
	"        dtmf: \"1\"\n"
	"        answer: Your case {case.number} is {case.state}.\n"
	"        deflect: true\n"
	"      agent:\n"
	"        phrases: [talk to an agent, agent please]\n"
	"        dtmf: \"0\"\n"
	"        goto: account\n"
	"    no_match: support\n"
	"  account:\n"
	"    kind: collect\n"
	"    file: prompts/account.wav\n"
	"    into: account\n"
	"    min_digits: 4\n"
	"    max_digits: 10\n"
	"    terminator: \"#\"\n"
	"    next: vip\n"
	"    no_input: support\n"
	"  vip:\n"
	"    kind: set\n"
	"    attributes: {tier: gold, account_seen: \"{account}\"}\n"
	"    next: support\n"
	"  support:\n"
	"    kind: queue\n"
	"    queue: Support\n"
	"    priority: 5\n"
	"    max_wait: 300\n"
	"    announce_every: 30\n"
	"    overflow: billing\n"
	"    empty: closed-msg\n"
	"  billing:\n"
	"    kind: queue\n"
	"    queue: Billing\n"
	"  closed-msg:\n"
	"    kind: play\n"
	"    text: We are closed.\n"
	"    next: out\n"
	"  partner:\n"
	"    kind: transfer\n"
	"    number: \"+15550100\"\n"
	"    failed: out\n"
	"  out:\n"
	"    kind: disconnect\n";

static const struct flow_block *B(const struct flow *f, const char *name)
{
	int i = flow_block_index(f, name);

	assert_true(i >= 0);
	return &f->blocks[i];
}

static void a_full_flow_loads_into_its_graph(void **state)
{
	struct flow *f;
	char err[512];
	const struct flow_block *b;

	(void)state;
	assert_int_equal(flow_load_buf(&f, "main.yaml", full, strlen(full), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(f->name, "main");
	assert_int_equal(f->n_blocks, 11);
	assert_string_equal(f->blocks[f->start].name, "greet");
	b = B(f, "greet");
	assert_int_equal(b->kind, FLOW_PLAY);
	assert_string_equal(b->prompt.text, "Hello {caller.first_name}, welcome.");
	assert_int_equal(b->next, flow_block_index(f, "open"));
	assert_int_equal(b->line, 4);
	b = B(f, "open");
	assert_string_equal(b->timezone, "Europe/Paris");
	assert_int_equal(b->n_ranges, 11); /* 5 days x 2 + saturday */
	assert_int_equal(b->ranges[0].day, 0);
	assert_int_equal(b->ranges[0].from, 8 * 60);
	assert_int_equal(b->ranges[0].to, 12 * 60);
	assert_int_equal(b->n_holidays, 2);
	assert_string_equal(b->holidays[1], "2027-01-01");
	assert_int_equal(b->closed, flow_block_index(f, "closed-msg"));
	b = B(f, "menu");
	assert_int_equal(b->n_choices, 3);
	assert_string_equal(b->choices[2].key, "3");
	assert_int_equal(b->choices[2].target, flow_block_index(f, "bot"));
	assert_int_equal(b->timeout_s, 4);
	assert_int_equal(b->retries, 1);
	assert_int_equal(b->no_match, flow_block_index(f, "menu")); /* a loop is fine */
	b = B(f, "bot");
	assert_int_equal(b->n_intents, 2);
	assert_true(b->intents[0].deflect);
	assert_int_equal(b->intents[0].target, -1);
	assert_int_equal(b->intents[0].n_phrases, 2);
	assert_string_equal(b->intents[1].dtmf, "0");
	assert_int_equal(b->intents[1].target, flow_block_index(f, "account"));
	assert_true(b->threshold > 0.54 && b->threshold < 0.56);
	b = B(f, "account");
	assert_string_equal(b->prompt.file, "prompts/account.wav");
	assert_string_equal(b->into, "account");
	assert_int_equal(b->terminator, '#');
	b = B(f, "vip");
	assert_int_equal(b->n_attrs, 2);
	assert_string_equal(b->attrs[1].value, "{account}");
	b = B(f, "support");
	assert_int_equal(b->priority, 5);
	assert_int_equal(b->max_wait_s, 300);
	assert_int_equal(b->overflow, flow_block_index(f, "billing"));
	assert_int_equal(b->empty, flow_block_index(f, "closed-msg"));
	b = B(f, "partner");
	assert_string_equal(b->number, "+15550100");
	assert_string_equal(flow_kind_name(B(f, "out")->kind), "disconnect");
	flow_free(f);
}

#define HEAD "start: a\nblocks:\n"
#define PLAY "  a:\n    kind: play\n    text: hi\n    next: z\n  z:\n    kind: disconnect\n"

static const struct {
	const char *src, *msg;
} broken[] = {
	{"", "t.yaml:1: the file is empty; a flow needs 'start' and 'blocks'"},
	{"- a\n- b\n", "t.yaml:1: a flow must be a mapping with 'start' and 'blocks'"},
	{"start: a\nblocks: {}\nextra: 1\n", "t.yaml:3: unknown key 'extra' for a flow (allowed: "
					     "name, start, blocks)"},
	{"start: a\n", "t.yaml:1: 'blocks' is required"},
	{"blocks:\n" PLAY, "t.yaml:1: 'start' is required: the first block"},
	{"start: nope\nblocks:\n" PLAY, "t.yaml:1: 'start' goes to 'nope', which is not a block"},
	{HEAD "  a:\n    kind: play\n    text: hi\n    next: gone\n",
	 "t.yaml:6: block 'a': 'next' goes to 'gone', which is not a block"},
	{HEAD "  a:\n    kind: dance\n", "t.yaml:4: block 'a': unknown kind 'dance'"},
	{HEAD "  a:\n    text: hi\n", "t.yaml:4: block 'a': 'kind' is required"},
	{HEAD "  a:\n    kind: play\n    next: a\n",
	 "t.yaml:4: block 'a': a prompt is required: 'text' (spoken) or 'file' (a WAV)"},
	{HEAD "  a:\n    kind: play\n    text: hi\n    file: x.wav\n    next: a\n",
	 "block 'a': give 'text' (spoken) or 'file' (a WAV), not both"},
	{HEAD "  a:\n    kind: play\n    text: hi\n    choices: {\"1\": a}\n    next: a\n",
	 "t.yaml:6: block 'a': unknown key 'choices' for play (allowed: kind, text, file, "
	 "barge_in, next)"},
	{HEAD "  a:\n    kind: play\n    text: hi\n", "t.yaml:4: block 'a': 'next' is required"},
	{HEAD PLAY "  a:\n    kind: disconnect\n", "t.yaml:9: block 'a' is given twice (also on "
						   "line 3)"},
	{HEAD "  A!:\n    kind: disconnect\n", "t.yaml:3: a block name may hold a-z"},
	{HEAD "  a:\n    kind: menu\n    text: hi\n", "block 'a': 'choices' is required"},
	{HEAD "  a:\n    kind: menu\n    text: hi\n    choices: {\"12\": a}\n",
	 "t.yaml:6: block 'a': a choice is one key: 0-9, * or #, not '12'"},
	{HEAD "  a:\n    kind: menu\n    text: hi\n    choices: {\"1\": a}\n    timeout: 0\n",
	 "t.yaml:7: block 'a': 'timeout' must be a whole number from 1 to 60, not '0'"},
	{HEAD "  a:\n    kind: menu\n    text: hi\n    choices: {\"1\": a}\n    retries: lots\n",
	 "'retries' must be a whole number from 0 to 10, not 'lots'"},
	{HEAD "  a:\n    kind: collect\n    text: hi\n    next: a\n",
	 "block 'a': 'into' is required"},
	{HEAD "  a:\n    kind: collect\n    text: hi\n    into: n\n    min_digits: 5\n    "
	      "max_digits: 3\n    next: a\n",
	 "'min_digits' (5) is more than 'max_digits' (3)"},
	{HEAD
	 "  a:\n    kind: collect\n    text: hi\n    into: n\n    terminator: x\n    next: a\n",
	 "'terminator' must be # or *"},
	{HEAD
	 "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: [hi]\n        deflect: "
	 "true\n",
	 "intent 'x' deflects, so it needs an 'answer' to give"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        answer: hi\n        goto: a\n",
	 "intent 'x' needs 'phrases' or 'dtmf'"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: [hi]\n",
	 "'goto' is required: the block to go to"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: hi\n        goto: a\n",
	 "intent 'x': 'phrases' must be a list of sentences"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: [hi]\n        answer: "
	      "yo\n        deflect: true\n        goto: a\n",
	 "intent 'x' deflects (ends the call), so it cannot also 'goto' (unless it 'requires' an "
	 "attribute)"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: [hi]\n        "
	      "requires: case.number\n        goto: a\n",
	 "intent 'x': 'requires' names what a deflection needs, so it needs 'deflect: true'"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: [hi]\n        answer: "
	      "yo\n        deflect: true\n        requires: case..number\n        goto: a\n",
	 "intent 'x': 'requires' must be an attribute name"},
	{HEAD "  a:\n    kind: bot\n    intents:\n      x:\n        phrases: [hi]\n        answer: "
	      "yo\n        deflect: true\n        requires: case.number\n",
	 "'goto' is required: the block to go to"},
	{HEAD "  a:\n    kind: hours\n    timezone: Mars/Olympus\n    weekly: {daily: "
	      "\"00:00-24:00\"}\n    open: a\n    closed: a\n",
	 "'Mars/Olympus' is not a time zone this machine knows"},
	{HEAD "  a:\n    kind: hours\n    timezone: UTC\n    weekly: {someday: \"08:00-09:00\"}\n"
	      "    open: a\n    closed: a\n",
	 "'someday' is not a day or range of days"},
	{HEAD "  a:\n    kind: hours\n    timezone: UTC\n    weekly: {mon: \"18:00-08:00\"}\n    "
	      "open: a\n    closed: a\n",
	 "'18:00-08:00' is not an opening time like \"08:00-18:00\" (from before to)"},
	{HEAD "  a:\n    kind: hours\n    timezone: UTC\n    weekly: {mon: \"08:00-18:00\"}\n    "
	      "holidays: [\"2026-13-01\"]\n    open: a\n    closed: a\n",
	 "'2026-13-01' is not a date (YYYY-MM-DD)"},
	{HEAD "  a:\n    kind: hours\n    timezone: UTC\n    weekly: {mon: \"08:00-18:00\"}\n    "
	      "open: a\n",
	 "'closed' is required"},
	{HEAD "  a:\n    kind: set\n    attributes: {\"Bad Name\": x}\n    next: a\n",
	 "an attribute name may hold a-z"},
	{HEAD "  a:\n    kind: queue\n    queue: Support\n    max_wait: 60\n",
	 "'overflow' is required: the block to go to"},
	{HEAD "  a:\n    kind: queue\n    queue: Support\n    overflow: a\n",
	 "'overflow' needs 'max_wait' (seconds)"},
	{HEAD "  a:\n    kind: queue\n    queue: Support\n    max_wait: 0\n    overflow: a\n",
	 "'max_wait' must be a whole number from 1 to 86400, not '0'"},
	{HEAD "  a:\n    kind: queue\n    queue: Support\n    announce_every: 4\n",
	 "'announce_every' must be a whole number from 5 to 3600, not '4'"},
	{HEAD "  a:\n    kind: transfer\n    number: call-me\n",
	 "'number' must be digits with an optional leading +"},
	{"start: a\nblocks:\n  a: &x\n    kind: disconnect\n  b: *x\n",
	 "t.yaml:3: anchors and aliases (& and *) are not allowed in a flow"},
	{"start: a\nblocks: [\n", "t.yaml:"},
	{"start: a\nblocks:\n  a:\n    kind: disconnect\n---\nstart: b\n",
	 "t.yaml:5: one flow a file: a second document starts here"},
};

static void broken_flows_fail_with_file_line_block_and_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct flow *f = (struct flow *)1;
		char err[512];
		int rc = flow_load_buf(&f, "t.yaml", broken[i].src, strlen(broken[i].src), err,
				       sizeof(err));

		if (rc != -EINVAL || !strstr(err, broken[i].msg))
			fail_msg("case %zu: rc %d, got '%s', want '%s'", i, rc, err, broken[i].msg);
		assert_null(f);
	}
}

static void a_file_loads_and_a_missing_one_says_so(void **state)
{
	char path[] = "/tmp/sb-flow-XXXXXX";
	int fd = mkstemp(path);
	struct flow *f;
	char err[512];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full, strlen(full)), (ssize_t)strlen(full));
	close(fd);
	assert_int_equal(flow_load_file(&f, path, err, sizeof(err)), 0);
	assert_string_equal(f->file, path);
	flow_free(f);
	unlink(path);
	assert_int_equal(flow_load_file(&f, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
}

/* ---- the interpreter ---- */
struct h {
	char log[2048];
	int64_t now;
	int ended;
	enum flow_end how;
	const struct flow_block *end_block;
	bool nobody;  /* no agent of any queue signed in */
	int timer_ms; /* the timer as last armed, 0 = cancelled */
};

static void h_log(struct h *h, const char *fmt, const char *a)
{
	size_t n = strlen(h->log);

	snprintf(h->log + n, sizeof(h->log) - n, fmt, a);
}

static void h_play(void *arg, const char *text, const char *file)
{
	h_log(arg, "play(%s);", text ? text : file);
}

static void h_stop(void *arg)
{
	h_log(arg, "stop%s;", "");
}

static void h_timer(void *arg, int ms)
{
	char b[16];

	snprintf(b, sizeof(b), "%d", ms);
	((struct h *)arg)->timer_ms = ms;
	if (ms)
		h_log(arg, "timer(%s);", b);
}

static void h_listen(void *arg, const struct flow_block *b)
{
	h_log(arg, "listen(%s);", b->name);
}

static void h_end(void *arg, enum flow_end how, const struct flow_block *b)
{
	static const char *const names[] = {"queue", "transfer", "hangup", "deflect", "error"};
	struct h *h = arg;

	h->ended++;
	h->how = how;
	h->end_block = b;
	h_log(h, "end(%s", names[how]);
	h_log(h, ":%s);", b->name);
}

static int64_t h_now(void *arg)
{
	return ((struct h *)arg)->now;
}

static bool h_staffed(void *arg, const char *queue)
{
	(void)queue;
	return !((struct h *)arg)->nobody;
}

static const struct flow_call_ops h_ops = {
	h_play, h_stop, h_timer, h_listen, h_end, h_now, h_staffed,
};

static struct flow *load(void)
{
	struct flow *f;
	char err[512];

	assert_int_equal(flow_load_buf(&f, "main.yaml", full, strlen(full), err, sizeof(err)), 0);
	return f;
}

/* 2026-11-25 is a Wednesday; 10:00 in Paris is 09:00 UTC. */
#define WED_10H_PARIS  1795597200LL
#define WED_20H_PARIS  (WED_10H_PARIS + 10 * 3600)
#define XMAS_10H_PARIS (WED_10H_PARIS + 30 * 86400)

static void hours_follow_the_time_zone_and_the_holidays(void **state)
{
	struct flow *f = load();
	const struct flow_block *b = &f->blocks[flow_block_index(f, "open")];

	(void)state;
	assert_true(flow_hours_open(b, WED_10H_PARIS));
	assert_false(flow_hours_open(b, WED_10H_PARIS + 2 * 3600 + 1800)); /* 12:30 lunch */
	assert_false(flow_hours_open(b, WED_20H_PARIS));
	assert_false(flow_hours_open(b, XMAS_10H_PARIS));	     /* Friday, a holiday */
	assert_true(flow_hours_open(b, XMAS_10H_PARIS - 86400));     /* the Thursday before */
	assert_false(flow_hours_open(b, WED_10H_PARIS + 4 * 86400)); /* Sunday */
	flow_free(f);
}

static void a_menu_key_leads_to_its_queue(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	assert_int_equal(flow_call_set(c, "caller.first_name", "Amy"), 0);
	flow_call_start(c);
	assert_string_equal(h.log, "play(Hello Amy, welcome.);");
	flow_call_played(c);
	flow_call_played(c); /* menu prompt done: wait for a key */
	flow_call_dtmf(c, '2');
	assert_string_equal(h.log, "play(Hello Amy, welcome.);"
				   "play(For support press 1, for billing press 2, to tell us, "
				   "press 3.);timer(4000);end(queue:billing);");
	assert_int_equal(h.how, FLOW_END_QUEUE);
	assert_string_equal(h.end_block->queue, "Billing");
	flow_call_dtmf(c, '1'); /* after the end: ignored */
	assert_int_equal(h.ended, 1);
	flow_call_free(c);
	flow_free(f);
}

static void closed_hours_take_the_closed_branch(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_20H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	flow_call_start(c);
	flow_call_played(c);
	flow_call_played(c);
	assert_string_equal(h.log, "play(Hello , welcome.);play(We are closed.);end(hangup:out);");
	flow_call_free(c);
	flow_free(f);
}

static void no_key_and_wrong_keys_retry_then_branch(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	flow_call_start(c);
	flow_call_played(c);
	h.log[0] = '\0';
	flow_call_played(c);
	flow_call_timeout(c); /* no key: retries 1 → prompt again */
	flow_call_played(c);
	flow_call_timeout(c); /* retries used: no_input → support */
	assert_string_equal(h.log, "timer(4000);play(For support press 1, for billing press 2, to "
				   "tell us, press 3.);timer(4000);end(queue:support);");
	flow_call_free(c);
	/* a wrong key after the retries goes to no_match, which is the menu
	 * itself: it loops, and the step limit ends the call */
	h = (struct h){.now = WED_10H_PARIS};
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	flow_call_played(c);
	for (int i = 0; i < 1000 && !flow_call_ended(c); i++)
		flow_call_dtmf(c, '9');
	assert_int_equal(h.how, FLOW_END_ERROR);
	assert_int_equal(flow_call_steps(c), FLOW_MAX_STEPS + 1);
	flow_call_free(c);
	flow_free(f);
}

static const char bot_flow[] = "name: b\nstart: bot\nblocks:\n"
			       "  bot:\n"
			       "    kind: bot\n"
			       "    text: How can I help?\n"
			       "    timeout: 4\n"
			       "    retries: 0\n"
			       "    intents:\n"
			       "      status:\n"
			       "        phrases: [what is the status of my case]\n"
			       "        answer: Your case {case.number} is {case.state}.\n"
			       "        deflect: true\n"
			       "        requires: case.number\n"
			       "        goto: agents\n"
			       "    no_input: agents\n"
			       "  agents: {kind: queue, queue: Support}\n";

static struct flow *load_bot(void)
{
	struct flow *f;
	char err[512];

	assert_int_equal(flow_load_buf(&f, "b.yaml", bot_flow, strlen(bot_flow), err, sizeof(err)),
			 0);
	return f;
}

/* With the case found, the bot answers; without it, the same intent routes. */
static void a_deflection_that_requires_an_attribute_routes_without_it(void **state)
{
	struct flow *f = load_bot();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c;

	(void)state;
	assert_string_equal(B(f, "bot")->intents[0].requires, "case.number");
	c = flow_call_new(f, &h_ops, &h);
	flow_call_set(c, "case.number", "CS0001002");
	flow_call_set(c, "case.state", "In Progress");
	flow_call_start(c);
	flow_call_played(c);
	flow_call_intent(c, "status", 0.9);
	flow_call_played(c);
	assert_int_equal(h.how, FLOW_END_DEFLECT);
	flow_call_free(c);
	h = (struct h){.now = WED_10H_PARIS};
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	flow_call_played(c);
	flow_call_intent(c, "status", 0.9);
	assert_int_equal(h.how, FLOW_END_QUEUE);
	assert_string_equal(h.end_block->name, "agents");
	flow_call_free(c);
	flow_free(f);
}

/* Speech stops the no-input timer; listening is only in the bot's wait. */
static void speech_stops_the_no_input_timer(void **state)
{
	struct flow *f = load_bot();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c;

	(void)state;
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	assert_false(flow_call_listening(c)); /* the prompt plays */
	flow_call_played(c);
	assert_true(flow_call_listening(c));
	assert_string_equal(flow_call_current(c)->name, "bot");
	assert_int_equal(h.timer_ms, 4000);
	flow_call_speech(c);
	assert_int_equal(h.timer_ms, 0);
	assert_true(flow_call_listening(c)); /* still waiting for the recogniser */
	flow_call_intent(c, NULL, 0);	     /* nothing understood, no retries: no_match */
	assert_int_equal(h.how, FLOW_END_HANGUP);
	assert_false(flow_call_listening(c));
	flow_call_free(c);
	flow_free(f);
}

static void the_bot_deflects_or_routes_by_intent(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	flow_call_set(c, "case.number", "CS0001002");
	flow_call_set(c, "case.state", "in progress");
	flow_call_start(c);
	flow_call_played(c);
	flow_call_dtmf(c, '3'); /* during the menu prompt: barge in */
	h.log[0] = '\0';
	flow_call_played(c);			  /* "How can I help?" */
	flow_call_intent(c, "case-status", 0.40); /* below the threshold: reprompt */
	flow_call_played(c);
	flow_call_intent(c, "case-status", 0.90);
	flow_call_played(c); /* the answer has played: the call ends, deflected */
	assert_string_equal(h.log, "timer(5000);listen(bot);play(How can I help?);timer(5000);"
				   "listen(bot);play(Your case CS0001002 is in progress.);"
				   "end(deflect:bot);");
	assert_string_equal(flow_call_get(c, "intent"), "case-status");
	flow_call_free(c);
	/* "agent" by its keypad shortcut → collect the account → set → queue */
	h = (struct h){.now = WED_10H_PARIS};
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	flow_call_played(c);
	flow_call_played(c);
	flow_call_dtmf(c, '3');
	flow_call_played(c);
	flow_call_dtmf(c, '0');
	flow_call_played(c); /* the account prompt (a file) */
	flow_call_dtmf(c, '1');
	flow_call_dtmf(c, '2');
	flow_call_dtmf(c, '3');
	flow_call_dtmf(c, '4');
	flow_call_dtmf(c, '#');
	assert_int_equal(h.how, FLOW_END_QUEUE);
	assert_string_equal(h.end_block->name, "support");
	assert_string_equal(flow_call_get(c, "account"), "1234");
	assert_string_equal(flow_call_get(c, "account_seen"), "1234");
	assert_string_equal(flow_call_get(c, "tier"), "gold");
	assert_non_null(strstr(h.log, "play(prompts/account.wav);"));
	flow_call_free(c);
	flow_free(f);
}

static void collect_needs_its_minimum_of_digits(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	flow_call_start(c);
	flow_call_played(c);
	flow_call_dtmf(c, '3');
	flow_call_played(c);
	flow_call_dtmf(c, '0');
	flow_call_played(c);
	flow_call_dtmf(c, '1');
	flow_call_dtmf(c, '#'); /* 1 digit < min 4: again */
	flow_call_played(c);
	flow_call_dtmf(c, '9');
	flow_call_timeout(c); /* again too short, retries used: no_input → support */
	assert_int_equal(h.how, FLOW_END_QUEUE);
	assert_null(flow_call_get(c, "account"));
	flow_call_free(c);
	flow_free(f);
}

static void expansion_gives_defaults_for_missing_attributes(void **state)
{
	struct flow *f = load();
	struct h h = {0};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);
	char out[128];

	(void)state;
	flow_expand(c, "Hello {caller.first_name|there}, {x}{y|}!", out, sizeof(out));
	assert_string_equal(out, "Hello there, !");
	flow_call_set(c, "caller.first_name", "Amy");
	flow_call_set(c, "x", "1");
	flow_expand(c, "Hello {caller.first_name|there}, {x}{y|}! {unclosed", out, sizeof(out));
	assert_string_equal(out, "Hello Amy, 1! {unclosed");
	flow_expand(c, "{x}{x}{x}", out, 3); /* truncated, terminated */
	assert_string_equal(out, "11");
	flow_call_free(c);
	flow_free(f);
}

static void an_unstaffed_queue_takes_the_empty_branch(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS, .nobody = true};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	flow_call_start(c);
	flow_call_played(c);
	flow_call_dtmf(c, '1'); /* support: nobody signed in → closed-msg */
	flow_call_played(c);
	assert_int_equal(h.how, FLOW_END_HANGUP);
	assert_non_null(strstr(h.log, "play(We are closed.);end(hangup:out);"));
	flow_call_free(c);
	/* billing has no empty branch: it queues anyway */
	h = (struct h){.now = WED_10H_PARIS, .nobody = true};
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	flow_call_played(c);
	flow_call_dtmf(c, '2');
	assert_int_equal(h.how, FLOW_END_QUEUE);
	flow_call_free(c);
	flow_free(f);
}

/* max_wait: call control resumes at the overflow branch, which queues
 * again (billing), or plays and hangs up; the step limit still counts. */
static void the_flow_resumes_at_the_overflow_branch(void **state)
{
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);
	const struct flow_block *support;
	int steps;

	(void)state;
	flow_call_resume(c, 0); /* not ended yet: ignored */
	assert_string_equal(h.log, "");
	flow_call_start(c);
	flow_call_played(c);
	flow_call_dtmf(c, '1');
	assert_int_equal(h.how, FLOW_END_QUEUE);
	support = h.end_block;
	assert_string_equal(support->name, "support");
	assert_int_equal(support->max_wait_s, 300);
	assert_int_equal(support->announce_every_s, 30);
	assert_ptr_equal(flow_call_block(c, support->overflow), &f->blocks[flow_block_index(f, "billing")]);
	assert_null(flow_call_block(c, -1));
	assert_null(flow_call_block(c, (int)f->n_blocks));
	steps = flow_call_steps(c);
	flow_call_resume(c, 99999); /* not a block: ignored */
	assert_int_equal(h.ended, 1);
	flow_call_resume(c, support->overflow);
	assert_int_equal(h.ended, 2);
	assert_int_equal(h.how, FLOW_END_QUEUE);
	assert_string_equal(h.end_block->queue, "Billing");
	assert_int_equal(flow_call_steps(c), steps + 1);
	/* resumed again at a play: it plays, then hangs up */
	flow_call_resume(c, flow_block_index(f, "closed-msg"));
	flow_call_played(c);
	assert_int_equal(h.ended, 3);
	assert_int_equal(h.how, FLOW_END_HANGUP);
	assert_non_null(strstr(h.log, "end(queue:billing);play(We are closed.);end(hangup:out);"));
	/* after a hang-up there is nothing to resume */
	flow_call_resume(c, support->overflow);
	assert_int_equal(h.ended, 3);
	flow_call_free(c);
	/* -1 (no branch) hangs up */
	h = (struct h){.now = WED_10H_PARIS};
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	flow_call_played(c);
	flow_call_dtmf(c, '2');
	flow_call_resume(c, -1);
	assert_int_equal(h.how, FLOW_END_HANGUP);
	assert_int_equal(h.ended, 2);
	flow_call_free(c);
	flow_free(f);
}

/* A flow whose overflow goes back to the same queue cannot go round for
 * ever: every resume is a step, and the limit ends the call. */
static void overflowing_back_into_the_same_queue_meets_the_step_limit(void **state)
{
	static const char loop[] = "start: q\nblocks:\n  q:\n    kind: queue\n    queue: Support\n"
				   "    max_wait: 1\n    overflow: q\n";
	struct flow *f;
	struct h h = {0};
	struct flow_call *c;
	char err[256];
	int i;

	(void)state;
	assert_int_equal(flow_load_buf(&f, "loop.yaml", loop, strlen(loop), err, sizeof(err)), 0);
	c = flow_call_new(f, &h_ops, &h);
	flow_call_start(c);
	for (i = 0; i < 2 * FLOW_MAX_STEPS && h.how == FLOW_END_QUEUE; i++)
		flow_call_resume(c, h.end_block->overflow);
	assert_int_equal(h.how, FLOW_END_ERROR);
	assert_int_equal(h.ended, FLOW_MAX_STEPS + 1);
	flow_call_free(c);
	flow_free(f);
}


/* A reload drops the loaded set's reference: a call in the flow keeps the
 * version it started with until it ends (ASan would see a use after free). */
static void a_call_keeps_its_flow_after_the_loaded_one_is_dropped(void **state)
{
	size_t live = mem_live();
	struct flow *f = load();
	struct h h = {.now = WED_10H_PARIS};
	struct flow_call *c = flow_call_new(f, &h_ops, &h);

	(void)state;
	assert_int_equal(mem_live(), live + 1);
	flow_call_start(c);
	flow_free(f); /* replaced: the set lets go */
	assert_int_equal(mem_live(), live + 1);
	flow_call_played(c);
	flow_call_played(c);
	flow_call_dtmf(c, '2');
	assert_int_equal(h.how, FLOW_END_QUEUE);
	assert_string_equal(h.end_block->queue, "Billing");
	flow_call_free(c);
	assert_int_equal(mem_live(), live);
}

/* A transfer that fails continues the flow at its `failed` branch. */
static void a_failed_transfer_resumes_at_its_branch(void **state)
{
	static const char src[] = "start: out\n"
				  "blocks:\n"
				  "  out: {kind: transfer, number: \"+15550100\", failed: sorry}\n"
				  "  sorry: {kind: play, text: Sorry., next: q}\n"
				  "  q: {kind: queue, queue: Billing}\n";
	struct flow *f;
	struct h h = {0};
	struct flow_call *c;
	char err[256];

	(void)state;
	assert_int_equal(flow_load_buf(&f, "x.yaml", src, strlen(src), err, sizeof(err)), 0);
	c = flow_call_new(f, &h_ops, &h);
	flow_call_resume(c, 1); /* not ended yet: ignored */
	flow_call_start(c);
	assert_int_equal(h.how, FLOW_END_TRANSFER);
	assert_string_equal(h.end_block->number, "+15550100");
	flow_call_resume(c, h.end_block->failed);
	assert_false(flow_call_ended(c));
	flow_call_played(c);
	assert_string_equal(h.log, "end(transfer:out);play(Sorry.);end(queue:q);");
	assert_int_equal(h.ended, 2);
	flow_call_resume(c, -1); /* no branch: hang up */
	assert_int_equal(h.how, FLOW_END_HANGUP);
	assert_int_equal(h.ended, 3);
	flow_call_free(c);
	flow_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_full_flow_loads_into_its_graph),
		cmocka_unit_test(broken_flows_fail_with_file_line_block_and_reason),
		cmocka_unit_test(a_file_loads_and_a_missing_one_says_so),
		cmocka_unit_test(hours_follow_the_time_zone_and_the_holidays),
		cmocka_unit_test(a_menu_key_leads_to_its_queue),
		cmocka_unit_test(closed_hours_take_the_closed_branch),
		cmocka_unit_test(no_key_and_wrong_keys_retry_then_branch),
		cmocka_unit_test(the_bot_deflects_or_routes_by_intent),
		cmocka_unit_test(a_deflection_that_requires_an_attribute_routes_without_it),
		cmocka_unit_test(speech_stops_the_no_input_timer),
		cmocka_unit_test(collect_needs_its_minimum_of_digits),
		cmocka_unit_test(expansion_gives_defaults_for_missing_attributes),
		cmocka_unit_test(an_unstaffed_queue_takes_the_empty_branch),
		cmocka_unit_test(the_flow_resumes_at_the_overflow_branch),
		cmocka_unit_test(overflowing_back_into_the_same_queue_meets_the_step_limit),
		cmocka_unit_test(a_call_keeps_its_flow_after_the_loaded_one_is_dropped),
		cmocka_unit_test(a_failed_transfer_resumes_at_its_branch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
