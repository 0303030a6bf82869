/*
 * recorder.c — stereo call recording: caller (left) and agent (right) as
 * received, through a small jitter buffer per side, written off the loop;
 * and the same writer fed frame by frame by a conference (conf.c).
 *
 * DESIGN
 * - Jitter buffer (jbuf.c): a ring of 2,048 samples per side indexed by RTP
 *   timestamp, read 40 ms behind the first packet; a lost packet is
 *   silence, and a side that never sent stays silent. Only a two-party
 *   recording has its own (media_record_start); a conference's recording
 *   reads the members' buffers, so it carries none (8 KB less per call).
 * - Two ways to be fed: on the clock (m->recs), each tick takes a frame
 *   from each of two buffers (rec_follow: a two-party recording's own, or
 *   a relaying conference's two members'); or by its owner (rec_frame: a
 *   mixing conference hands over the mixer's channels). A conference
 *   switches between the two at the tick boundary, so the file goes on.
 * - Each media-clock tick takes 160 samples from each side and interleaves
 *   them into the current chunk, so the two channels stay aligned on our
 *   clock whatever the far ends' clocks do. A full chunk (0.24 s, 7.5 KB: held by every
 *   recording while it fills, so its size is memory per call) is queued.
 *   Frames where neither side has audio go to a chunk of silence instead
 *   (a count, no samples; the worker writes the zeros): after a stall the
 *   clock catches recordings up with up to 60 s of mostly silent frames,
 *   which used to be whole chunks per call waiting for the pool.
 *   A conference recording has no legs and is not on m->recs: the
 *   conference's own tick hands it the two channels (rec_frame).
 * - File I/O runs on the worker pool (work_submit) with at most one job per
 *   recording in flight, so chunks are appended in order without a lock:
 *   while a job runs the loop touches only the pending list, the worker
 *   only the list it was handed and the file. The first job opens the
 *   WAV (PCM 16, 2 channels, 8 kHz: a plain 44-byte header and the samples,
 *   written here with write(2); the header's two sizes are rewritten after
 *   each write so a live recording is a valid file); the last closes it
 *   and the done callback runs on the loop with the frames written. No
 *   libsndfile: its state is ~9 KB per open file, held for the whole call
 *   (issue 16, docs/PERFORMANCE.md), for a header we can write ourselves.
 * - Stopping: media_record_stop (either leg), or mleg_free of both legs
 *   (then silently: no callback). Freeing one leg just silences its side.
 *   The recorder holds a reference on the engine until its file is closed.
 */
#define LOG_MODULE "media"
#include "media/media_int.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_FR (REC_CHUNK_FRAMES * MEDIA_FRAME)
#define WAV_HDR	 44

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "recorder.c writes the samples as they are in memory: WAV needs little-endian"
#endif

struct mrec {
	struct media *m;
	struct mleg *leg[2];
	struct jbuf *side;   /* a two-party recording's own two, fed by its legs */
	struct jbuf *src[2]; /* what rec_tick takes each frame (on m->recs) */
	struct mlist le;     /* in m->recs while running */
	struct mrec_chunk *cur, *pend, *job;
	bool busy, opened, stopping, job_close;
	int fd;		/* the WAV, -1 closed (worker's while busy) */
	uint64_t bytes; /* sample bytes in the file (worker's) */
	int err;	/* set by the worker */
	uint64_t frames;
	media_record_done_h *done;
	void *arg;
	uint64_t id; /* the left leg's, for logs */
	char path[];
};

struct mrec *rec_from_le(struct mlist *n)
{
	return mlist_entry(n, struct mrec, le);
}

struct jbuf *rec_jb(struct mleg *l)
{
	return l->rec ? &l->rec->side[l->rec_side] : NULL;
}

void rec_rx(struct mleg *l, const struct rtp_hdr *h)
{
	jb_put(&l->rec->side[l->rec_side], h->ts, l->codec, h->payload, h->payload_len);
}

/* ---- the worker side ---- */
static const uint8_t zeros[4096];

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}

/* The canonical header of a PCM 16, 2-channel, 8 kHz WAV holding `bytes`. */
static void wav_header(uint8_t *h, uint64_t bytes)
{
	uint32_t data = bytes > UINT32_MAX - WAV_HDR ? UINT32_MAX - WAV_HDR : (uint32_t)bytes;

	memcpy(h, "RIFF", 4);
	le32(h + 4, 36 + data);
	memcpy(h + 8, "WAVEfmt ", 8);
	le32(h + 16, 16);
	le32(h + 20, 1 | 2u << 16);	  /* PCM, 2 channels */
	le32(h + 24, MEDIA_RATE);	  /* frames/s */
	le32(h + 28, MEDIA_RATE * 2 * 2); /* bytes/s */
	le32(h + 32, 2 * 2 | 16u << 16);  /* block align 4, 16 bits */
	memcpy(h + 36, "data", 4);
	le32(h + 40, data);
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		b += w, n -= (size_t)w;
	}
	return 0;
}

static int rec_file_open(struct mrec *r)
{
	uint8_t h[WAV_HDR];

	r->fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r->fd < 0)
		return -EIO;
	wav_header(h, 0);
	return write_all(r->fd, h, sizeof(h));
}

/* Worker thread: appends the chunks it was handed, opens/closes the file. */
static void rec_work(void *arg)
{
	struct mrec *r = arg;
	uint8_t h[WAV_HDR];
	bool wrote = false;

	if (r->fd < 0 && !r->err)
		r->err = rec_file_open(r);
	for (struct mrec_chunk *c = r->job; c && r->fd >= 0 && !r->err; c = c->next) {
		size_t n = c->frames * 2 * sizeof(c->pcm[0]);

		if (c->silent) /* zeros, from a static page at a time */
			for (size_t k = 0; k < n && !r->err; k += sizeof(zeros))
				r->err = write_all(r->fd, zeros,
						   n - k < sizeof(zeros) ? n - k : sizeof(zeros));
		else
			r->err = write_all(r->fd, c->pcm, n);
		r->bytes += n;
		wrote = true;
	}
	if (wrote && !r->err) { /* the sizes, so the file is valid as it grows */
		wav_header(h, r->bytes);
		if (pwrite(r->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) /* one call */
			r->err = -EIO;
	}
	if (r->job_close && r->fd >= 0) {
		if (close(r->fd) && !r->err)
			r->err = -EIO;
		r->fd = -1;
	}
}

/* ---- the loop side ---- */
static void rec_finish(struct mrec *r)
{
	if (r->err)
		log_error("leg=%llu action=record failed path=%s: %s", (unsigned long long)r->id,
			  r->path, cc_strerror(r->err));
	else
		log_info("leg=%llu action=record closed path=%s frames=%llu",
			 (unsigned long long)r->id, r->path, (unsigned long long)r->frames);
	if (r->done)
		r->done(r->err, r->frames, r->arg);
	mem_deref(r);
}

static void rec_kick(struct mrec *r);

static void rec_work_done(void *arg)
{
	struct mrec *r = arg;
	struct mrec_chunk *c;

	r->busy = false;
	while ((c = r->job)) {
		r->job = c->next;
		media_chunk_put(r->m, c);
	}
	if (r->job_close)
		rec_finish(r);
	else
		rec_kick(r);
}

/* Hands the pending chunks (and open/close duties) to one pool job. */
static void rec_kick(struct mrec *r)
{
	if (r->busy || (r->opened && !r->pend && !r->stopping))
		return;
	r->job = r->pend;
	r->pend = NULL;
	r->job_close = r->stopping;
	r->opened = true;
	r->busy = true;
	if (work_submit(r->m->loop, rec_work, rec_work_done, r)) {
		/* Out of memory for the job: do it here, once, rather than lose it. */
		rec_work(r);
		rec_work_done(r);
	}
}

static void rec_chunk_queue(struct mrec *r)
{
	struct mrec_chunk **pp = &r->pend;

	while (*pp)
		pp = &(*pp)->next;
	*pp = r->cur;
	r->cur = NULL;
}

/* The chunk's next frame (NULL: out of memory, the frame is lost) / it is
 * written: queue the chunk once full. A chunk of silence in progress is
 * queued first: samples go to a chunk of their own. */
static int16_t *rec_next(struct mrec *r)
{
	if (r->cur && r->cur->silent) {
		rec_chunk_queue(r);
		rec_kick(r);
	}
	if (!r->cur && !(r->cur = media_chunk_get(r->m)))
		return NULL;
	return r->cur->pcm + 2 * r->cur->frames;
}

static void rec_wrote(struct mrec *r)
{
	r->cur->frames += MEDIA_FRAME;
	r->frames += MEDIA_FRAME;
	if (r->cur->frames >= CHUNK_FR) {
		rec_chunk_queue(r);
		rec_kick(r);
	}
}

/* A frame of silence on both sides: counted in a chunk of silence (no
 * samples held) unless a chunk of samples is being filled. A long stall's
 * catch-up (engine.c) is mostly this: it then costs no memory per call. */
static bool rec_silence(struct mrec *r)
{
	if (r->cur && !r->cur->silent)
		return false;
	if (!r->cur && !(r->cur = media_chunk_silent()))
		return false;
	rec_wrote(r);
	return true;
}

void rec_frame(struct mrec *r, const int16_t *a, const int16_t *b)
{
	int16_t *dst = rec_next(r);

	if (!dst)
		return;
	for (size_t k = 0; k < MEDIA_FRAME; k++) {
		dst[2 * k] = a[k];
		dst[2 * k + 1] = b[k];
	}
	rec_wrote(r);
}

/* Each side's frame goes from its ring straight into the chunk, interleaved
 * (no copy in between: this runs for every recorded call every 20 ms). */
void rec_tick(struct mrec *r)
{
	int16_t *dst, skip[MEDIA_FRAME];
	bool quiet = true;

	for (int i = 0; i < 2; i++)
		if (r->src[i] && jb_has_audio(r->src[i]))
			quiet = false;
	if (quiet && rec_silence(r)) {
		for (int i = 0; i < 2; i++)
			if (r->src[i])
				jb_take_into(r->src[i], skip, 1); /* keeps time */
		return;
	}
	dst = rec_next(r);
	for (int i = 0; i < 2; i++)
		if (r->src[i] && dst)
			jb_take_into(r->src[i], dst + i, 2);
		else if (r->src[i])
			jb_take_into(r->src[i], skip, 1); /* keep time */
		else if (dst)
			for (size_t k = 0; k < MEDIA_FRAME; k++)
				dst[2 * k + i] = 0; /* a side that is gone */
	if (dst)
		rec_wrote(r);
}

void rec_follow(struct mrec *r, struct jbuf *left, struct jbuf *right)
{
	r->src[0] = left, r->src[1] = right;
	if (!mlist_linked(&r->le)) {
		mlist_add(&r->m->recs, &r->le);
		media_clock_kick(r->m);
	}
}

void rec_unfollow(struct mrec *r)
{
	r->src[0] = r->src[1] = NULL;
	mlist_del(&r->le);
}

void rec_close(struct mrec *r, media_record_done_h *done, void *arg)
{
	for (int i = 0; i < 2; i++)
		if (r->leg[i]) {
			r->leg[i]->rec = NULL;
			r->leg[i] = NULL;
		}
	mlist_del(&r->le);
	r->stopping = true;
	r->done = done, r->arg = arg;
	if (r->cur && r->cur->frames)
		rec_chunk_queue(r);
	media_chunk_put(r->m, r->cur);
	r->cur = NULL;
	rec_kick(r);
}

void rec_leg_gone(struct mleg *l)
{
	struct mrec *r = l->rec;

	if (!r)
		return;
	r->leg[l->rec_side] = NULL;
	l->rec = NULL;
	if (!r->leg[0] && !r->leg[1])
		rec_close(r, NULL, NULL);
}

static void rec_destroy(void *data)
{
	struct mrec *r = data;

	if (r->fd >= 0) /* not reached: the last job closes it */
		close(r->fd);
	mem_deref(r->side);
	mem_deref(r->m);
}

int rec_alloc(struct mrec **rp, struct media *m, uint64_t id, const char *path)
{
	struct mrec *r;
	size_t len = path ? strlen(path) : 0;

	if (!len || len >= 1024)
		return -EINVAL;
	r = mem_zalloc(sizeof(*r) + len + 1, rec_destroy);
	if (!r)
		return -ENOMEM;
	r->m = mem_ref(m);
	r->fd = -1;
	memcpy(r->path, path, len + 1);
	r->id = id;
	rec_kick(r); /* opens the file on the pool now */
	*rp = r;
	return 0;
}

int media_record_start(struct mleg *left, struct mleg *right, const char *path)
{
	struct jbuf *side;
	struct mrec *r;
	int err;

	if (!left || !right || left == right || left->m != right->m)
		return -EINVAL;
	if (left->closing || right->closing || left->m->closing)
		return -EINVAL;
	if (!path || !*path || strlen(path) >= 1024)
		return -EINVAL;
	if (left->rec || right->rec)
		return -EBUSY;
	side = mem_zalloc(2 * sizeof(*side), NULL);
	if (!side)
		return -ENOMEM;
	err = rec_alloc(&r, left->m, left->id, path);
	if (err) {
		mem_deref(side);
		return err;
	}
	r->side = side;
	rec_follow(r, &side[0], &side[1]);
	r->leg[0] = left, r->leg[1] = right;
	left->rec = r, left->rec_side = 0;
	right->rec = r, right->rec_side = 1;
	log_info("leg=%llu action=record start peer=%llu path=%s", (unsigned long long)left->id,
		 (unsigned long long)right->id, path);
	return 0;
}

int media_record_stop(struct mleg *l, media_record_done_h *done, void *arg)
{
	if (!l || !l->rec)
		return -ENOENT;
	log_info("leg=%llu action=record stop", (unsigned long long)l->id);
	rec_close(l->rec, done, arg);
	return 0;
}
