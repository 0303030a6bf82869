/*
 * flow_run.c — walks one call through a loaded flow: prompts, menus,
 * digit collection, the bot's intents, hours, attributes, and the block
 * that ends the flow (queue, transfer, disconnect, a deflection).
 *
 * DESIGN
 * - A small state machine per call: the current block and what it waits
 *   for (a prompt to finish, a key, the timer, the recogniser). Input that
 *   the state does not expect is ignored, so late events are harmless.
 * - Menus and collects play their prompt, then wait `timeout` seconds; a
 *   key during the prompt counts (barge-in stops the prompt). No key, or a
 *   wrong one, prompts again `retries` times, then takes no_input/no_match
 *   (or hangs up when the flow gives no branch).
 * - A queue block ends the flow; when the caller waited the block's
 *   max_wait, call control resumes the flow at its overflow branch
 *   (flow_call_resume), which may queue again, play, hang up...
 * - Every block entered counts a step; past FLOW_MAX_STEPS the call ends
 *   with FLOW_END_ERROR, so a flow that loops without input cannot spin.
 * - Hours use the block's time zone through localtime_r with TZ set for
 *   the call (under a mutex; the process's own clock uses UTC throughout).
 */
#define LOG_MODULE "flow"
#include "flow/flow.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum wait { W_NONE, W_PROMPT, W_INPUT, W_SPEECH, W_ANSWER, W_DONE };

struct attr {
	char name[FLOW_NAME];
	char *value;
};

struct flow_call {
	const struct flow *f;
	const struct flow_call_ops *ops;
	void *arg;
	int cur, steps, tries;
	enum wait wait;
	enum flow_end how; /* once W_DONE */
	bool prompt_playing;
	char digits[40];
	size_t n_digits;
	struct attr attrs[FLOW_MAX_ATTRS];
	size_t n_attrs;
};

static void enter(struct flow_call *c, int block);

/* ---- attributes ---- */
int flow_call_set(struct flow_call *c, const char *name, const char *value)
{
	size_t i;
	char *v;

	for (i = 0; i < c->n_attrs && strcmp(c->attrs[i].name, name); i++)
		;
	if (i == c->n_attrs && c->n_attrs == FLOW_MAX_ATTRS)
		return -ENOSPC;
	v = strdup(value ? value : "");
	if (!v)
		return -ENOMEM;
	if (i == c->n_attrs) {
		str_copy(c->attrs[i].name, name, sizeof(c->attrs[i].name));
		c->n_attrs++;
	} else {
		free(c->attrs[i].value);
	}
	c->attrs[i].value = v;
	return 0;
}

const char *flow_call_get(const struct flow_call *c, const char *name)
{
	for (size_t i = 0; i < c->n_attrs; i++)
		if (!strcmp(c->attrs[i].name, name))
			return c->attrs[i].value;
	return NULL;
}

bool flow_call_attr_at(const struct flow_call *c, size_t i, const char **name, const char **value)
{
	if (i >= c->n_attrs)
		return false;
	*name = c->attrs[i].name;
	*value = c->attrs[i].value;
	return true;
}

void flow_expand(const struct flow_call *c, const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 1 < size; p++) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (close && close - p - 1 > 0 && close - p - 1 < FLOW_NAME) {
			char name[FLOW_NAME], *dflt;
			const char *v;
			memcpy(name, p + 1, (size_t)(close - p - 1));
			name[close - p - 1] = '\0';
			dflt = strchr(name, '|'); /* {name|default} */
			if (dflt)
				*dflt++ = '\0';
			v = flow_call_get(c, name);
			if ((!v || !v[0]) && dflt)
				v = dflt;
			for (; v && *v && o + 1 < size; v++)
				out[o++] = *v;
			p = close;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

/* ---- hours ---- */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static void local_time(const char *tz, int64_t when, struct tm *tm)
{
	time_t t = (time_t)when;
	char *old;

	pthread_mutex_lock(&tz_lock);
	old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", tz, 1);
	tzset();
	localtime_r(&t, tm);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	pthread_mutex_unlock(&tz_lock);
}

bool flow_hours_open(const struct flow_block *b, int64_t when)
{
	struct tm tm;
	char date[48];
	int day, min;

	local_time(b->timezone, when, &tm);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
	for (size_t i = 0; i < b->n_holidays; i++)
		if (!strcmp(b->holidays[i], date))
			return false;
	day = (tm.tm_wday + 6) % 7; /* Monday = 0 */
	min = tm.tm_hour * 60 + tm.tm_min;
	for (size_t i = 0; i < b->n_ranges; i++)
		if (b->ranges[i].day == day && min >= b->ranges[i].from && min < b->ranges[i].to)
			return true;
	return false;
}

/* ---- moving on ---- */
static const struct flow_block *cur(const struct flow_call *c)
{
	return &c->f->blocks[c->cur];
}

static void finish(struct flow_call *c, enum flow_end how)
{
	if (c->wait == W_DONE)
		return;
	c->ops->timer(c->arg, 0);
	if (c->prompt_playing)
		c->ops->stop(c->arg);
	c->prompt_playing = false;
	c->wait = W_DONE;
	c->how = how;
	c->ops->end(c->arg, how, cur(c));
}

/* Goes to a branch, or hangs up when the flow gives none. */
static void take(struct flow_call *c, int target)
{
	if (target < 0) {
		finish(c, FLOW_END_HANGUP);
		return;
	}
	enter(c, target);
}

static void play(struct flow_call *c, const struct flow_prompt *p)
{
	char text[FLOW_EXPANDED_MAX];

	if (p->text)
		flow_expand(c, p->text, text, sizeof(text));
	c->prompt_playing = true;
	c->wait = W_PROMPT;
	c->ops->play(c->arg, p->text ? text : NULL, p->file);
}

/* A menu, collect or bot block (re)starts: prompt, then wait. */
static void ask(struct flow_call *c)
{
	const struct flow_block *b = cur(c);

	c->n_digits = 0;
	c->digits[0] = '\0';
	if (b->prompt.text || b->prompt.file) {
		play(c, &b->prompt);
		return;
	}
	flow_call_played(c); /* a bot with no prompt listens at once */
}

/* No key / no match / nothing understood: again, or the branch. */
static void retry(struct flow_call *c, int branch)
{
	c->ops->timer(c->arg, 0);
	if (c->tries < cur(c)->retries) {
		c->tries++;
		ask(c);
		return;
	}
	take(c, branch);
}

static void enter(struct flow_call *c, int block)
{
	const struct flow_block *b;
	char val[FLOW_EXPANDED_MAX];

	if (c->wait == W_DONE)
		return;
	c->cur = block;
	b = cur(c);
	c->tries = 0;
	if (++c->steps > FLOW_MAX_STEPS) {
		log_error("flow=%s block=%s action=step limit (%d) reached: the call ends",
			  c->f->name, b->name, FLOW_MAX_STEPS);
		finish(c, FLOW_END_ERROR);
		return;
	}
	switch (b->kind) {
	case FLOW_PLAY: play(c, &b->prompt); break;
	case FLOW_MENU:
	case FLOW_COLLECT:
	case FLOW_BOT: ask(c); break;
	case FLOW_HOURS:
		take(c, flow_hours_open(b, c->ops->now(c->arg)) ? b->open : b->closed);
		break;
	case FLOW_SET:
		for (size_t i = 0; i < b->n_attrs; i++) {
			flow_expand(c, b->attrs[i].value, val, sizeof(val));
			if (flow_call_set(c, b->attrs[i].name, val))
				log_warn("flow=%s block=%s action=set %s failed (too many "
					 "attributes)",
					 c->f->name, b->name, b->attrs[i].name);
		}
		take(c, b->next);
		break;
	case FLOW_QUEUE:
		if (b->empty >= 0 && c->ops->queue_staffed &&
		    !c->ops->queue_staffed(c->arg, b->queue))
			take(c, b->empty);
		else
			finish(c, FLOW_END_QUEUE);
		break;
	case FLOW_TRANSFER: finish(c, FLOW_END_TRANSFER); break;
	case FLOW_DISCONNECT: finish(c, FLOW_END_HANGUP); break;
	}
}

/* ---- input ---- */
void flow_call_played(struct flow_call *c)
{
	const struct flow_block *b;

	if (c->wait != W_PROMPT && c->wait != W_ANSWER)
		return;
	c->prompt_playing = false;
	if (c->wait == W_ANSWER) {
		finish(c, FLOW_END_DEFLECT);
		return;
	}
	b = cur(c);
	switch (b->kind) {
	case FLOW_PLAY: take(c, b->next); break;
	case FLOW_BOT:
		c->wait = W_SPEECH;
		c->ops->timer(c->arg, b->timeout_s * 1000);
		c->ops->listen(c->arg, b);
		break;
	default:
		c->wait = W_INPUT;
		c->ops->timer(c->arg, b->timeout_s * 1000);
		break;
	}
}

static const struct flow_intent *intent_by_dtmf(const struct flow_block *b, const char *keys)
{
	for (size_t i = 0; i < b->n_intents; i++)
		if (b->intents[i].dtmf[0] && !strcmp(b->intents[i].dtmf, keys))
			return &b->intents[i];
	return NULL;
}

static void intent_take(struct flow_call *c, const struct flow_intent *it)
{
	char text[FLOW_EXPANDED_MAX];
	const char *need = it->requires[0] ? flow_call_get(c, it->requires) : "";

	c->ops->timer(c->arg, 0);
	if (c->prompt_playing)
		c->ops->stop(c->arg);
	c->prompt_playing = false;
	flow_call_set(c, "intent", it->name);
	if (it->deflect && it->requires[0] && (!need || !need[0])) {
		take(c, it->target); /* nothing to answer with: route instead */
		return;
	}
	if (!it->deflect) {
		take(c, it->target);
		return;
	}
	flow_expand(c, it->answer, text, sizeof(text));
	c->prompt_playing = true;
	c->wait = W_ANSWER;
	c->ops->play(c->arg, text, NULL);
}

void flow_call_dtmf(struct flow_call *c, char digit)
{
	const struct flow_block *b;

	if (c->wait != W_PROMPT && c->wait != W_INPUT && c->wait != W_SPEECH)
		return;
	b = cur(c);
	if (b->kind == FLOW_PLAY) {
		if (b->barge_in && c->wait == W_PROMPT) {
			c->ops->stop(c->arg);
			c->prompt_playing = false;
			take(c, b->next);
		}
		return;
	}
	if (c->wait == W_PROMPT) { /* a key during the prompt: barge in */
		c->ops->stop(c->arg);
		c->prompt_playing = false;
		c->wait = b->kind == FLOW_BOT ? W_SPEECH : W_INPUT;
	}
	c->ops->timer(c->arg, 0);
	if (b->kind == FLOW_MENU) {
		for (size_t i = 0; i < b->n_choices; i++)
			if (b->choices[i].key[0] == digit) {
				take(c, b->choices[i].target);
				return;
			}
		retry(c, b->no_match);
		return;
	}
	if (c->n_digits + 1 < sizeof(c->digits)) {
		c->digits[c->n_digits++] = digit;
		c->digits[c->n_digits] = '\0';
	}
	if (b->kind == FLOW_BOT) {
		const struct flow_intent *it = intent_by_dtmf(b, c->digits);
		if (it)
			intent_take(c, it);
		else
			c->ops->timer(c->arg, b->timeout_s * 1000);
		return;
	}
	/* collect */
	if (digit == b->terminator || (b->max_digits && c->n_digits >= (size_t)b->max_digits)) {
		if (digit == b->terminator)
			c->digits[--c->n_digits] = '\0';
		if (c->n_digits >= (size_t)(b->min_digits ? b->min_digits : 1)) {
			flow_call_set(c, b->into, c->digits);
			take(c, b->next);
		} else {
			retry(c, b->no_input);
		}
		return;
	}
	c->ops->timer(c->arg, b->timeout_s * 1000);
}

void flow_call_timeout(struct flow_call *c)
{
	const struct flow_block *b;

	if (c->wait != W_INPUT && c->wait != W_SPEECH)
		return;
	b = cur(c);
	if (b->kind == FLOW_COLLECT && c->n_digits >= (size_t)(b->min_digits ? b->min_digits : 1)) {
		flow_call_set(c, b->into, c->digits);
		take(c, b->next);
		return;
	}
	retry(c, b->no_input);
}

void flow_call_intent(struct flow_call *c, const char *intent, double confidence)
{
	const struct flow_block *b;

	if (c->wait != W_SPEECH)
		return;
	b = cur(c);
	for (size_t i = 0; intent && i < b->n_intents; i++)
		if (!strcmp(b->intents[i].name, intent) && confidence >= b->threshold) {
			intent_take(c, &b->intents[i]);
			return;
		}
	retry(c, b->no_match);
}

/* ---- life ---- */
struct flow_call *flow_call_new(const struct flow *f, const struct flow_call_ops *ops, void *arg)
{
	struct flow_call *c = calloc(1, sizeof(*c));

	if (c)
		c->f = flow_ref(f), c->ops = ops, c->arg = arg, c->cur = f->start;
	return c;
}

void flow_call_start(struct flow_call *c)
{
	enter(c, c->f->start);
}

void flow_call_speech(struct flow_call *c)
{
	if (c->wait == W_SPEECH)
		c->ops->timer(c->arg, 0);
}

const struct flow_block *flow_call_current(const struct flow_call *c)
{
	return cur(c);
}

bool flow_call_listening(const struct flow_call *c)
{
	return c->wait == W_SPEECH;
}

void flow_call_resume(struct flow_call *c, int block)
{
	if (c->wait != W_DONE || (c->how != FLOW_END_QUEUE && c->how != FLOW_END_TRANSFER) ||
	    block < -1 || block >= (int)c->f->n_blocks)
		return;
	c->wait = W_NONE;
	take(c, block);
}

const struct flow_block *flow_call_block(const struct flow_call *c, int i)
{
	return i >= 0 && i < (int)c->f->n_blocks ? &c->f->blocks[i] : NULL;
}

bool flow_call_ended(const struct flow_call *c)
{
	return c->wait == W_DONE;
}

int flow_call_steps(const struct flow_call *c)
{
	return c->steps;
}

void flow_call_free(struct flow_call *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_attrs; i++)
		free(c->attrs[i].value);
	flow_free((struct flow *)c->f); /* the call's reference */
	free(c);
}
