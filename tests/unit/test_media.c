/*
 * test_media.c — media wire formats and codecs, no sockets: RTP parse and
 * build as byte-exact vectors (malformed ones included), RFC 4733 payloads,
 * G.711 round trips and transcoding, the built-in audio.
 * The sockets, bridge, playback, DTMF and recording tests are in
 * test_media_net.c. Every test asserts no mem_* block is left live.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/media.h"
#include "media/media_int.h" /* the jitter buffer */

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int teardown(void **state)
{
	mem_fail_after(0);
	assert_int_equal(mem_live(), 0);
	return 0;
}

/* ---- rtp_parse ---- */
static void rtp_parse_reads_a_plain_packet(void **state)
{
	static const uint8_t p[] = {0x80, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0,
				    0x12, 0x34, 0x56, 0x78, 'a',  'b',	'c',  'd'};
	struct rtp_hdr h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.pt, 0);
	assert_true(h.marker);
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.ts, 160);
	assert_int_equal(h.ssrc, 0x12345678);
	assert_ptr_equal(h.payload, p + 12);
	assert_int_equal(h.payload_len, 4);
}

static void rtp_parse_skips_csrcs_extension_and_padding(void **state)
{
	/* V2 P X CC=2, pt 8, 2 CSRCs, extension of 1 word, 3 payload, 2 padding */
	static const uint8_t p[] = {0xb2, 0x08, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef, 0,	 0,    0,
				    1,	  1,	1,    1,    1,	  2,	2,    2,    2,	 0xbe, 0xde,
				    0x00, 0x01, 9,    9,    9,	  9,	'x',  'y',  'z', 0,    2};
	struct rtp_hdr h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.pt, 8);
	assert_false(h.marker);
	assert_int_equal(h.seq, 0xffff);
	assert_int_equal(h.ts, 0xdeadbeef);
	assert_int_equal(h.ssrc, 1);
	assert_int_equal(h.payload_len, 3);
	assert_memory_equal(h.payload, "xyz", 3);
}

static void rtp_parse_accepts_an_empty_payload(void **state)
{
	static const uint8_t p[] = {0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
	struct rtp_hdr h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.payload_len, 0);
}

static void rtp_parse_rejects_malformed_packets(void **state)
{
	static const uint8_t v1[] = {0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'a'};
	static const uint8_t v0[] = {0x00, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'a'};
	static const uint8_t shrt[] = {0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t csrc[] = {0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
	static const uint8_t ext_hdr[] = {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde};
	static const uint8_t ext_len[] = {0x90, 0, 0,	 1,    0,    0,	   0, 0, 0, 0,
					  0,	1, 0xbe, 0xde, 0xff, 0xff, 1, 2, 3, 4};
	static const uint8_t pad_big[] = {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 4};
	static const uint8_t pad_zero[] = {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0};
	static const uint8_t pad_nopl[] = {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t rtcp[] = {0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
	static const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = {{v1, sizeof(v1)},
		   {v0, sizeof(v0)},
		   {shrt, sizeof(shrt)},
		   {csrc, sizeof(csrc)},
		   {ext_hdr, sizeof(ext_hdr)},
		   {ext_len, sizeof(ext_len)},
		   {pad_big, sizeof(pad_big)},
		   {pad_zero, sizeof(pad_zero)},
		   {pad_nopl, sizeof(pad_nopl)},
		   {rtcp, sizeof(rtcp)}};
	struct rtp_hdr h;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rtp_parse(bad[i].p, bad[i].n, &h), -EBADMSG);
	assert_int_equal(rtp_parse(NULL, 12, &h), -EBADMSG);
}

static void rtp_parse_padding_may_fill_the_whole_payload(void **state)
{
	static const uint8_t p[] = {0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3};
	struct rtp_hdr h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.payload_len, 0);
}

/* ---- rtp_build ---- */
static void rtp_build_writes_exact_bytes(void **state)
{
	static const uint8_t want[] = {0x80, 0xe5, 0xab, 0xcd, 0x01, 0x02, 0x03, 0x04,
				       0xca, 0xfe, 0xba, 0xbe, 0x01, 0x0a, 0x03, 0x20};
	static const uint8_t ev[] = {0x01, 0x0a, 0x03, 0x20};
	struct rtp_hdr h = {.pt = 101,
			    .marker = true,
			    .seq = 0xabcd,
			    .ts = 0x01020304,
			    .ssrc = 0xcafebabe,
			    .payload = ev,
			    .payload_len = 4};
	uint8_t buf[64];
	struct rtp_hdr back;

	assert_int_equal(rtp_build(buf, sizeof(buf), &h), 16);
	assert_memory_equal(buf, want, 16);
	assert_int_equal(rtp_parse(buf, 16, &back), 0);
	assert_int_equal(back.pt, 101);
	assert_int_equal(back.seq, 0xabcd);
	assert_int_equal(rtp_build(buf, 15, &h), -ENOSPC);
	assert_int_equal(rtp_build(buf, 11, &(struct rtp_hdr){0}), -ENOSPC);
}

static void rtp_build_accepts_payload_in_place(void **state)
{
	uint8_t buf[32] = {0};
	struct rtp_hdr h = {
		.pt = 0, .seq = 1, .ts = 2, .ssrc = 3, .payload = buf + 12, .payload_len = 3};

	memcpy(buf + 12, "abc", 3);
	assert_int_equal(rtp_build(buf, sizeof(buf), &h), 15);
	assert_memory_equal(buf + 12, "abc", 3);
}

/* ---- RFC 4733 ---- */
static void rtp_dtmf_parse_reads_digits_and_end(void **state)
{
	static const uint8_t five_end[] = {5, 0x8a, 0x03, 0x20};
	static const uint8_t hash[] = {11, 0x0a, 0x00, 0xa0};
	static const uint8_t d[] = {15, 0x0a, 0x00, 0xa0};
	static const uint8_t star[] = {10, 0x0a, 0x00, 0xa0};
	static const uint8_t flash[] = {16, 0x0a, 0x00, 0xa0};
	char digit;
	bool end;
	uint16_t dur;

	assert_int_equal(rtp_dtmf_parse(five_end, 4, &digit, &end, &dur), 0);
	assert_int_equal(digit, '5');
	assert_true(end);
	assert_int_equal(dur, 800);
	assert_int_equal(rtp_dtmf_parse(hash, 4, &digit, &end, &dur), 0);
	assert_int_equal(digit, '#');
	assert_false(end);
	assert_int_equal(dur, 160);
	assert_int_equal(rtp_dtmf_parse(d, 4, &digit, &end, &dur), 0);
	assert_int_equal(digit, 'D');
	assert_int_equal(rtp_dtmf_parse(star, 4, &digit, NULL, NULL), 0);
	assert_int_equal(digit, '*');
	assert_int_equal(rtp_dtmf_parse(flash, 4, &digit, &end, &dur), -ENOTSUP);
	assert_int_equal(rtp_dtmf_parse(five_end, 3, &digit, &end, &dur), -EBADMSG);
	assert_int_equal(rtp_dtmf_parse(NULL, 4, &digit, &end, &dur), -EBADMSG);
}

/* ---- G.711 ---- */
static void g711_encodes_silence_to_the_standard_bytes(void **state)
{
	int16_t zero[4] = {0};
	uint8_t u[4], a[4];

	media_g711_encode(MEDIA_PCMU, zero, u, 4);
	media_g711_encode(MEDIA_PCMA, zero, a, 4);
	assert_int_equal(u[0], 0xff);
	assert_int_equal(a[0], 0xd5);
}

static void g711_round_trip_stays_within_quantisation(void **state)
{
	enum media_codec cs[] = {MEDIA_PCMU, MEDIA_PCMA};

	for (int c = 0; c < 2; c++) {
		for (int x = -32768; x <= 32767; x += 7) {
			int16_t in = (int16_t)x, out;
			uint8_t b;

			media_g711_encode(cs[c], &in, &b, 1);
			media_g711_decode(cs[c], &b, &out, 1);
			/* segment step is at most 1/16 of the magnitude (+ small floor) */
			assert_true(abs(out - in) <= abs(in) / 16 + 40);
		}
	}
}

static void g711_every_byte_decodes_and_reencodes_to_itself(void **state)
{
	for (int c = 0; c < 2; c++) {
		enum media_codec codec = c ? MEDIA_PCMA : MEDIA_PCMU;

		for (int i = 0; i < 256; i++) {
			uint8_t b = (uint8_t)i, back;
			int16_t s;

			media_g711_decode(codec, &b, &s, 1);
			media_g711_encode(codec, &s, &back, 1);
			if (codec == MEDIA_PCMU && i == 0x7f)
				continue; /* µ-law -0 encodes as +0 (0xff) */
			assert_int_equal(back, b);
		}
	}
}

/* ---- built-in audio ---- */
static double rms(const int16_t *p, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)p[i] * p[i];
	return sqrt(s / (double)n);
}

static void hold_music_is_an_8s_loop_at_minus_18_dbfs(void **state)
{
	size_t n;
	const int16_t *p = media_hold_music(&n);
	double db = 20 * log10(rms(p, n) / 32767.0);

	assert_int_equal(n, 8 * MEDIA_RATE);
	assert_true(db > -19.5 && db < -16.5);
	/* the loop point is seamless: no jump bigger than within the tune */
	assert_true(abs(p[0] - p[n - 1]) < 4000);
}

static void beep_is_200ms_of_1khz(void **state)
{
	size_t n, crossings = 0;
	const int16_t *p = media_beep(&n);

	assert_int_equal(n, MEDIA_RATE / 5);
	for (size_t i = 1; i < n; i++)
		crossings += (p[i - 1] < 0) != (p[i] < 0);
	assert_true(crossings >= 395 && crossings <= 401); /* 2 per cycle */
	assert_true(rms(p, n) > 5000);
}

/* ---- prompts from files ---- */
static void wav_write(const char *path, int rate, int channels, int frames)
{
	SF_INFO info = {.samplerate = rate,
			.channels = channels,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	short *buf = calloc((size_t)frames * (size_t)channels, sizeof(short));

	assert_non_null(sf);
	assert_non_null(buf);
	for (int i = 0; i < frames; i++) {
		buf[i * channels] = 1000;
		if (channels > 1)
			buf[i * channels + 1] = 3000;
	}
	assert_int_equal(sf_writef_short(sf, buf, frames), frames);
	sf_close(sf);
	free(buf);
}

static void wav_load_mixes_down_and_resamples_to_8khz(void **state)
{
	char dir[] = "/tmp/sb-wav-XXXXXX", a[64], b[64], c[64], d[64], err[700];
	int16_t *pcm = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/stereo8k.wav", dir);
	snprintf(b, sizeof(b), "%s/mono16k.wav", dir);
	snprintf(c, sizeof(c), "%s/stereo44k.wav", dir);
	snprintf(d, sizeof(d), "%s/mono2k.wav", dir);
	wav_write(a, 8000, 2, 4000);
	wav_write(b, 16000, 1, 16000);
	wav_write(c, 44100, 2, 22050);
	wav_write(d, 2000, 1, 100);
	assert_int_equal(media_wav_load(a, &pcm, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4000);
	assert_int_equal(pcm[0], 2000); /* (1000 + 3000) / 2 */
	assert_int_equal(pcm[3999], 2000);
	free(pcm);
	/* 1 s at 16 kHz and 0.5 s at 44.1 kHz stereo: the same length at 8 kHz */
	assert_int_equal(media_wav_load(b, &pcm, &n, err, sizeof(err)), 0);
	assert_true(n >= 7900 && n <= 8000);
	assert_true(pcm[n / 2] >= 990 && pcm[n / 2] <= 1010);
	free(pcm);
	assert_int_equal(media_wav_load(c, &pcm, &n, err, sizeof(err)), 0);
	assert_true(n >= 3950 && n <= 4000);
	assert_true(pcm[n / 2] >= 1980 && pcm[n / 2] <= 2020);
	free(pcm);
	assert_int_equal(media_wav_load(d, &pcm, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2000 Hz; prompts may be 4000 to 192000 Hz"));
	assert_int_equal(media_wav_load("/nonexistent/x.wav", &pcm, &n, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.wav"));
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(d);
	rmdir(dir);
}

/* Three packets from ts0 through a fresh jitter buffer, read with stride
 * (2: one channel of a stereo frame, as the recorder does). */
static void jb_read_check(uint32_t ts0, size_t stride)
{
	static struct jbuf j;
	uint8_t pkt[3][MEDIA_FRAME];
	int16_t want[3 * MEDIA_FRAME], out[2 * MEDIA_FRAME];

	memset(&j, 0, sizeof(j));
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < MEDIA_FRAME; i++)
			pkt[k][i] = (uint8_t)(0x10 + 7 * (k * MEDIA_FRAME + i));
		media_g711_decode(MEDIA_PCMU, pkt[k], want + k * MEDIA_FRAME, MEDIA_FRAME);
		jb_put(&j, ts0 + (uint32_t)(k * MEDIA_FRAME), MEDIA_PCMU, pkt[k], MEDIA_FRAME);
	}
	/* the read point starts JB_DELAY (two frames) behind the first packet */
	for (int f = 0; f < JB_DELAY / MEDIA_FRAME; f++) {
		assert_true(jb_take_into(&j, out, stride));
		for (size_t i = 0; i < MEDIA_FRAME; i++)
			assert_int_equal(out[i * stride], 0);
	}
	for (int k = 0; k < 3; k++) {
		memset(out, 0x55, sizeof(out));
		assert_true(jb_take_into(&j, out, stride));
		for (size_t i = 0; i < MEDIA_FRAME; i++) {
			assert_int_equal(out[i * stride], want[k * MEDIA_FRAME + i]);
			if (stride == 2)
				assert_int_equal(out[i * stride + 1],
						 0x5555); /* the other channel */
		}
	}
	for (size_t i = 0; i < JB_SAMPLES; i++)
		assert_int_equal(j.ring[i], 0); /* what was taken is silence now */
	assert_false(jb_has_audio(&j));
	assert_false(jb_take_into(&j, out, stride)); /* nothing more: silence */
	assert_int_equal(out[0], 0);
}

/*
 * The recorder's read of a jitter buffer (jb_take_into) across the ring's
 * end: the samples come out in order, and what was taken is zeroed so that
 * a lost packet later reads as silence. A frame that wraps after 80
 * samples, one that ends exactly at the ring's end, and both strides.
 */
static void jitter_buffer_read_across_the_ring_end_is_in_order_and_zeroes(void **state)
{
	(void)state;
	for (size_t stride = 1; stride <= 2; stride++) {
		jb_read_check(JB_SAMPLES - 80, stride);
		jb_read_check(JB_SAMPLES - MEDIA_FRAME, stride);
		jb_read_check(12345, stride);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(rtp_parse_reads_a_plain_packet, teardown),
		cmocka_unit_test_teardown(rtp_parse_skips_csrcs_extension_and_padding, teardown),
		cmocka_unit_test_teardown(rtp_parse_accepts_an_empty_payload, teardown),
		cmocka_unit_test_teardown(rtp_parse_rejects_malformed_packets, teardown),
		cmocka_unit_test_teardown(rtp_parse_padding_may_fill_the_whole_payload, teardown),
		cmocka_unit_test_teardown(rtp_build_writes_exact_bytes, teardown),
		cmocka_unit_test_teardown(rtp_build_accepts_payload_in_place, teardown),
		cmocka_unit_test_teardown(rtp_dtmf_parse_reads_digits_and_end, teardown),
		cmocka_unit_test_teardown(g711_encodes_silence_to_the_standard_bytes, teardown),
		cmocka_unit_test_teardown(g711_round_trip_stays_within_quantisation, teardown),
		cmocka_unit_test_teardown(g711_every_byte_decodes_and_reencodes_to_itself,
					  teardown),
		cmocka_unit_test_teardown(hold_music_is_an_8s_loop_at_minus_18_dbfs, teardown),
		cmocka_unit_test_teardown(beep_is_200ms_of_1khz, teardown),
		cmocka_unit_test(wav_load_mixes_down_and_resamples_to_8khz),
		cmocka_unit_test_teardown(
			jitter_buffer_read_across_the_ring_end_is_in_order_and_zeroes, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
