/*
 * audio.c — a transcription job's audio, on the worker pool: the stereo
 * recording read (libsndfile), each channel cut into utterances by voice
 * activity, and the redacted copy written.
 *
 * DESIGN
 * - The cut uses the bot's endpointer (asr_ep) with a longer end of speech
 *   (TR_END_SILENCE_MS = 500 ms: a caller reading digits pauses between
 *   groups, and one utterance per sentence decodes better than fragments),
 *   and keeps TR_PAD_MS before and after; an utterance longer than the
 *   engine takes (ASR_TEXT_SECONDS) is cut in pieces.
 * - The redacted copy has both channels replaced by a 1 kHz tone over each
 *   span (the customer's number may be heard on either side: the agent
 *   reads it back). It is written to a temporary file and renamed, so a
 *   reader never sees half a file.
 */
#define LOG_MODULE "transcript"
#include "transcript/transcript_int.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME (TR_RATE * ASR_EP_FRAME_MS / 1000)
#define PAD   ((size_t)TR_RATE * TR_PAD_MS / 1000)
#define MAXN  ((size_t)TR_RATE * (ASR_TEXT_SECONDS - 1))

static int seg_add(struct tr_audio *au, size_t *cap, int ch, size_t s0, size_t s1)
{
	while (s1 > s0) {
		size_t e = s1 - s0 > MAXN ? s0 + MAXN : s1;
		if (au->n_segs == *cap) {
			size_t nc = *cap ? *cap * 2 : 32;
			struct tr_seg *ns = realloc(au->segs, nc * sizeof(*ns));
			if (!ns)
				return -ENOMEM;
			au->segs = ns, *cap = nc;
		}
		memset(&au->segs[au->n_segs], 0, sizeof(au->segs[0]));
		au->segs[au->n_segs].ch = ch;
		au->segs[au->n_segs].s0 = s0;
		au->segs[au->n_segs].s1 = e;
		au->n_segs++;
		s0 = e;
	}
	return 0;
}

/* The utterances of one channel. */
static int channel_cut(struct tr_audio *au, size_t *cap, int ch)
{
	struct asr_ep ep;
	size_t start = 0;
	bool in = false;
	int rc = 0;

	asr_ep_init(&ep, TR_END_SILENCE_MS);
	for (size_t f = 0; (f + 1) * FRAME <= au->n && !rc; f++) {
		enum asr_ep_event e = asr_ep_feed(&ep, au->ch[ch] + f * FRAME, FRAME);
		if (e == ASR_EP_START) {
			start = ep.start_frame * FRAME;
			in = true;
		} else if (e == ASR_EP_END && in) {
			size_t s0 = start > PAD ? start - PAD : 0, s1 = ep.end_frame * FRAME + PAD;
			rc = seg_add(au, cap, ch, s0, s1 < au->n ? s1 : au->n);
			in = false;
		}
	}
	if (!rc && in) /* speech up to the end of the recording */
		rc = seg_add(au, cap, ch, start > PAD ? start - PAD : 0, au->n);
	return rc;
}

void tr_audio_load(struct tr_audio *au)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(au->path, SFM_READ, &info);
	int16_t *inter = NULL;
	size_t cap = 0;

	if (!sf) {
		au->err = -ENOENT;
		snprintf(au->errmsg, sizeof(au->errmsg), "the recording cannot be read");
		return;
	}
	if (info.channels != 2 || info.samplerate != TR_RATE || info.frames <= 0) {
		au->err = -EINVAL;
		snprintf(au->errmsg, sizeof(au->errmsg),
			 "the recording is not 8 kHz stereo (%d Hz, %d channels)", info.samplerate,
			 info.channels);
		goto out;
	}
	au->n = (size_t)info.frames;
	inter = malloc(au->n * 2 * sizeof(*inter));
	au->ch[0] = malloc(au->n * sizeof(int16_t));
	au->ch[1] = malloc(au->n * sizeof(int16_t));
	au->err = -ENOMEM;
	if (!inter || !au->ch[0] || !au->ch[1])
		goto out;
	au->n = (size_t)sf_readf_short(sf, inter, (sf_count_t)au->n);
	for (size_t i = 0; i < au->n; i++) {
		au->ch[0][i] = inter[2 * i];
		au->ch[1][i] = inter[2 * i + 1];
	}
	au->err = channel_cut(au, &cap, 0);
	if (!au->err)
		au->err = channel_cut(au, &cap, 1);
out:
	if (au->err == -ENOMEM)
		snprintf(au->errmsg, sizeof(au->errmsg), "out of memory");
	free(inter);
	sf_close(sf);
}

/* Both channels' samples in [from, to) ms become a 1 kHz tone (-12 dBFS). */
static void tone(int16_t *inter, size_t n, const struct tr_span *sp)
{
	size_t a = (size_t)sp->from_ms * TR_RATE / 1000, b = (size_t)sp->to_ms * TR_RATE / 1000;

	for (size_t i = a; i < b && i < n; i++) {
		int16_t v = (int16_t)(8192 * sin(2 * M_PI * 1000.0 * (double)i / TR_RATE));
		inter[2 * i] = inter[2 * i + 1] = v;
	}
}

void tr_audio_redact(struct tr_audio *au)
{
	SF_INFO info = {
		.samplerate = TR_RATE, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	char tmp[sizeof(au->redacted_path) + 8];
	int16_t *inter = malloc(au->n * 2 * sizeof(*inter));
	SNDFILE *sf;

	if (!inter) {
		au->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < au->n; i++) {
		inter[2 * i] = au->ch[0][i];
		inter[2 * i + 1] = au->ch[1][i];
	}
	for (size_t i = 0; i < au->n_spans; i++)
		tone(inter, au->n, &au->spans[i]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", au->redacted_path);
	sf = sf_open(tmp, SFM_WRITE, &info);
	if (!sf || sf_writef_short(sf, inter, (sf_count_t)au->n) != (sf_count_t)au->n) {
		au->err = -EIO;
		snprintf(au->errmsg, sizeof(au->errmsg),
			 "the redacted recording could not be written");
	}
	if (sf)
		sf_close(sf);
	if (!au->err && rename(tmp, au->redacted_path)) {
		au->err = -EIO;
		snprintf(au->errmsg, sizeof(au->errmsg),
			 "the redacted recording could not be renamed");
	}
	if (au->err)
		remove(tmp);
	free(inter);
}

void tr_audio_free(struct tr_audio *au)
{
	if (!au)
		return;
	free(au->ch[0]);
	free(au->ch[1]);
	free(au->segs);
	free(au->spans);
	free(au);
}
