/*
 * redact.c — PII in a transcript's words (docs/TRANSCRIPTS.md, item 7).
 *
 * DESIGN
 * - Works on words, not characters: a recogniser writes "four one one one"
 *   for spoken digits, and the redacted recording needs each word's time.
 *   A digit word is zero..nine, "oh", a numeral string, or a homophone the
 *   recogniser prints for a digit ("for", "to", "too", "won", "ate") when
 *   it sits in a run of digits (a run needs 3 real digits to count, so
 *   "talk to an agent" stays). A numeral string counts one digit a char.
 * - Card numbers: a run of 13-19 digits that passes the Luhn check (the
 *   whole run: windows inside longer runs pass Luhn by chance too often).
 *   And, because the recogniser drops or mishears digits in a long run
 *   (sixteen spoken digits came back as thirteen through G.711, which no
 *   longer pass Luhn), any run of 8 or more digits within the 6 words after
 *   "card" ("my card number is", "credit card", "the card is").
 * - Card security codes: the first 3 or 4 digit words within the 6 words
 *   after "security code", "cvv" (or "c v v"), "verification code".
 * - National-id-like: a run of exactly 9 digits (a US social security
 *   number's length), or any run within 6 words after "social security",
 *   "national insurance", "id number".
 * - Over-redaction is the safe side: a digit run the rules catch but that
 *   is an order number of 9 digits is redacted too (said in the docs).
 */
#include "transcript/transcript.h"

#include <string.h>

#define CONTEXT_WORDS 6

static const char *const digit_words[10] = {"zero", "one", "two",   "three", "four",
					    "five", "six", "seven", "eight", "nine"};

int transcript_digit(const char *w)
{
	for (int i = 0; i < 10; i++) {
		if (!strcmp(w, digit_words[i]))
			return i;
	}
	if (!strcmp(w, "oh") || !strcmp(w, "o"))
		return 0;
	if (w[0] >= '0' && w[0] <= '9' && !w[1])
		return w[0] - '0';
	return -1;
}

/* A homophone of a digit, only inside a run. */
static int digit_like(const char *w)
{
	static const struct {
		const char *w;
		int d;
	} h[] = {{"for", 4}, {"fore", 4}, {"to", 2}, {"too", 2}, {"won", 1}, {"ate", 8}};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		if (!strcmp(w, h[i].w))
			return h[i].d;
	}
	return -1;
}

/* Digits a word stands for: 1 for a digit word, the length of a numeral
 * string, 0 for anything else; real says it is not a homophone. */
static size_t word_digits(const char *w, int *out, bool *real)
{
	size_t n = strlen(w);
	int d = transcript_digit(w);

	*real = true;
	if (d >= 0) {
		out[0] = d;
		return 1;
	}
	if (n > 1 && n <= 19 && strspn(w, "0123456789") == n) {
		for (size_t i = 0; i < n; i++)
			out[i] = w[i] - '0';
		return n;
	}
	*real = false;
	d = digit_like(w);
	if (d >= 0) {
		out[0] = d;
		return 1;
	}
	return 0;
}

static bool luhn(const int *d, size_t n)
{
	int sum = 0;

	for (size_t i = 0; i < n; i++) {
		int v = d[n - 1 - i];
		if (i & 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

struct run {
	size_t w0, w1; /* words [w0, w1) */
	int d[64];
	size_t wd[64]; /* the word each digit came from */
	size_t nd;
};

static void mark(bool *red, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		red[i] = true;
}

/* A card number: the whole run, 13-19 digits, Luhn-valid. (Windows inside
 * a longer run were tried: about one window in ten passes Luhn by chance,
 * so "4111 1111 1111 1112" had a valid 13-digit tail.) */
static bool card_in(const struct run *r, bool *red)
{
	if (r->nd < 13 || r->nd > 19 || !luhn(r->d, r->nd))
		return false;
	mark(red, r->w0, r->w1);
	return true;
}

static bool after_words(const char *const *w, size_t at, const char *a, const char *b)
{
	size_t from = at > CONTEXT_WORDS + 1 ? at - CONTEXT_WORDS - 1 : 0;

	for (size_t i = from; i < at; i++) {
		if (!strcmp(w[i], a) && (!b || (i + 1 < at && !strcmp(w[i + 1], b))))
			return true;
	}
	return false;
}

static bool card_context(const char *const *w, size_t at)
{
	return after_words(w, at, "card", NULL);
}

static bool cvv_context(const char *const *w, size_t at)
{
	return after_words(w, at, "security", "code") || after_words(w, at, "cvv", NULL) ||
	       after_words(w, at, "v", "v") || after_words(w, at, "verification", "code") ||
	       after_words(w, at, "cvc", NULL);
}

static bool id_context(const char *const *w, size_t at)
{
	return after_words(w, at, "social", "security") ||
	       after_words(w, at, "national", "insurance") || after_words(w, at, "id", "number");
}

/* Collects the run of digit words from i; false when it has fewer than 3
 * real digits (then it is ordinary speech). */
static bool run_collect(const char *const *w, size_t n, size_t i, struct run *r)
{
	size_t real = 0;

	memset(r, 0, sizeof(*r));
	r->w0 = i;
	for (; i < n; i++) {
		int d[19];
		bool is_real;
		size_t k = word_digits(w[i], d, &is_real);
		if (!k || r->nd + k > 64)
			break;
		for (size_t j = 0; j < k; j++) {
			r->wd[r->nd] = i;
			r->d[r->nd++] = d[j];
		}
		real += is_real ? k : 0;
	}
	r->w1 = i;
	/* trailing homophones ("... nine to") are not part of it */
	while (r->w1 > r->w0 && digit_like(w[r->w1 - 1]) >= 0 &&
	       transcript_digit(w[r->w1 - 1]) < 0) {
		r->w1--;
		while (r->nd && r->wd[r->nd - 1] >= r->w1)
			r->nd--;
	}
	return real >= 3;
}

size_t transcript_redact_mark(const char *const *w, size_t n, bool *red)
{
	size_t items = 0;

	memset(red, 0, n * sizeof(*red));
	for (size_t i = 0; i < n;) {
		struct run r;
		if (!run_collect(w, n, i, &r) || r.w1 == r.w0) {
			i++;
			continue;
		}
		if (card_in(&r, red)) {
			items++;
		} else if (r.nd >= 8 && card_context(w, r.w0)) {
			mark(red, r.w0, r.w1); /* a card number the recogniser got wrong */
			items++;
		} else if (r.nd == 9 || id_context(w, r.w0)) {
			mark(red, r.w0, r.w1);
			items++;
		} else if (cvv_context(w, r.w0) && r.nd >= 3) {
			/* the code's 3 or 4 digits: the first words of the run */
			size_t k = r.nd >= 4 ? 4 : 3;
			mark(red, r.w0, r.wd[k - 1] + 1);
			items++;
		}
		i = r.w1 > i ? r.w1 : i + 1;
	}
	return items;
}
