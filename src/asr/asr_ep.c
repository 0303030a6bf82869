/*
 * asr_ep.c — the endpointer: where speech starts and ends in a stream of
 * 20 ms frames of 8 kHz audio. Pure: no allocation, no clock, no I/O.
 *
 * DESIGN
 * - A frame's level is its mean energy in dB (10 log10(mean x^2 + 1)). A
 *   frame is speech when it is EP_ABOVE_DB above the running noise floor and
 *   above an absolute EP_MIN_DB (so that near-digital silence, where the
 *   floor is ~0 dB, does not make every breath speech).
 * - The floor follows non-speech frames only: down fast (a quieter frame is
 *   better evidence of the floor), up slowly (so a long vowel is not learnt
 *   as noise). It starts from the first frame.
 * - START needs min_speech_ms of consecutive speech frames (a click is
 *   shorter); start_frame is the run's first frame less EP_PREROLL frames.
 *   END needs end_silence_ms of consecutive non-speech frames after START;
 *   gaps between words are shorter than that (measured on espeak-ng in
 *   docs/ASR.md: the default 200 ms keeps a sentence one utterance).
 */
#include "asr/asr.h"

#include <math.h>
#include <string.h>

#define EP_ABOVE_DB 12.0 /* speech is this far above the noise floor */
#define EP_MIN_DB   36.0 /* and above this (RMS ~63 of 32767) */
#define EP_PREROLL  2	 /* frames kept before the first speech frame */

void asr_ep_init(struct asr_ep *ep, int end_silence_ms)
{
	memset(ep, 0, sizeof(*ep));
	ep->end_silence_ms = end_silence_ms > 0 ? end_silence_ms : ASR_EP_END_SILENCE_MS;
	ep->min_speech_ms = ASR_EP_MIN_SPEECH_MS;
	ep->noise = -1; /* unknown until the first frame */
}

static double frame_db(const int16_t *x, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)x[i] * x[i];
	return 10.0 * log10(sum / (double)(n ? n : 1) + 1.0);
}

static void noise_follow(struct asr_ep *ep, double db)
{
	if (ep->noise < 0)
		ep->noise = db;
	else if (db < ep->noise)
		ep->noise += 0.3 * (db - ep->noise);
	else
		ep->noise += 0.02 * (db - ep->noise);
}

static enum asr_ep_event ep_idle(struct asr_ep *ep, bool speech, int ms)
{
	size_t run, first;

	if (!speech) {
		ep->speech_ms = 0;
		return ASR_EP_NONE;
	}
	ep->speech_ms += ms;
	if (ep->speech_ms < ep->min_speech_ms)
		return ASR_EP_NONE;
	run = (size_t)(ep->speech_ms / ms);
	first = ep->frames + 1 - run;
	ep->start_frame = first > EP_PREROLL ? first - EP_PREROLL : 0;
	ep->in_speech = true;
	ep->silence_ms = 0;
	return ASR_EP_START;
}

static enum asr_ep_event ep_speaking(struct asr_ep *ep, bool speech, int ms)
{
	if (speech) {
		ep->silence_ms = 0;
		ep->speech_ms += ms;
		return ASR_EP_NONE;
	}
	ep->silence_ms += ms;
	if (ep->silence_ms < ep->end_silence_ms)
		return ASR_EP_NONE;
	ep->end_frame = ep->frames + 1 - (size_t)(ep->silence_ms / ms);
	ep->in_speech = false;
	ep->speech_ms = ep->silence_ms = 0;
	return ASR_EP_END;
}

enum asr_ep_event asr_ep_feed(struct asr_ep *ep, const int16_t *frame, size_t n)
{
	int ms = (int)(n * 1000 / ASR_RATE);
	double db;
	bool speech;
	enum asr_ep_event ev;

	if (!frame || ms <= 0)
		return ASR_EP_NONE;
	db = frame_db(frame, n);
	if (ep->noise < 0)
		noise_follow(ep, db);
	speech = db > EP_MIN_DB && db > ep->noise + EP_ABOVE_DB;
	if (!speech)
		noise_follow(ep, db);
	ev = ep->in_speech ? ep_speaking(ep, speech, ms) : ep_idle(ep, speech, ms);
	ep->frames++;
	return ev;
}
