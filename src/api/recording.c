/*
 * recording.c — GET /api/v1/interactions/{number}/recording: the call's
 * stereo WAV (caller left, agent right), with HTTP Range support so that an
 * audio player can seek (SPEC.md §7: "downloadable only by authorised users").
 *
 * DESIGN
 * - Authorised: the interaction's assigned agent, voice_manager, admin; to
 *   anyone else the recording does not exist (404, no enumeration).
 * - The interaction is read from the store and the file slice with pread(2),
 *   both on the worker pool; the loop only checks and replies.
 * - One range per request (players ask for one); a reply carries at most
 *   REC_MAX_CHUNK bytes, and a request without Range gets the first chunk as
 *   206 when the file is larger, so memory per request stays bounded.
 */
#define LOG_MODULE "recording"
#include "api/api_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_MAX_CHUNK (4u << 20)

int api_range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
	char *end;
	unsigned long long a, b;

	if (strncmp(h, "bytes=", 6))
		return -EINVAL;
	h += 6;
	if (*h == '-') { /* suffix: the last n bytes */
		if (h[1] < '0' || h[1] > '9')
			return -EINVAL;
		b = strtoull(h + 1, &end, 10);
		if (*end || b == 0)
			return *end ? -EINVAL : -ERANGE;
		*first = b >= size ? 0 : size - b;
		*last = size ? size - 1 : 0;
		return size ? 0 : -ERANGE;
	}
	if (*h < '0' || *h > '9')
		return -EINVAL;
	a = strtoull(h, &end, 10);
	if (*end != '-')
		return -EINVAL;
	h = end + 1;
	b = size ? size - 1 : 0;
	if (*h) {
		if (*h < '0' || *h > '9')
			return -EINVAL;
		b = strtoull(h, &end, 10);
		if (*end)
			return -EINVAL;
		if (b < a)
			return -EINVAL;
		if (b >= size)
			b = size ? size - 1 : 0;
	}
	if (a >= size)
		return -ERANGE;
	*first = a, *last = b;
	return 0;
}

struct rec_job {
	struct api_req *q;
	char path[600];
	char redacted[620]; /* served instead when it exists, "" = the original */
	char range[128];
	bool has_range;
	int err; /* 0, -ENOENT, -ERANGE, -EINVAL, -EIO */
	uint64_t size, first, last;
	char *data;
};

static void rec_read(void *arg)
{
	struct rec_job *j = arg;
	struct stat st;
	size_t n;
	int fd = j->redacted[0] ? open(j->redacted, O_RDONLY | O_CLOEXEC) : -1;

	if (fd < 0)
		fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		j->err = -ENOENT;
		goto out;
	}
	j->size = (uint64_t)st.st_size;
	j->first = 0, j->last = j->size ? j->size - 1 : 0;
	if (j->has_range && (j->err = api_range_parse(j->range, j->size, &j->first, &j->last)))
		goto out;
	if (j->last - j->first + 1 > REC_MAX_CHUNK)
		j->last = j->first + REC_MAX_CHUNK - 1;
	n = j->size ? (size_t)(j->last - j->first + 1) : 0;
	j->data = malloc(n ? n : 1);
	if (!j->data || (n && pread(fd, j->data, n, (off_t)j->first) != (ssize_t)n))
		j->err = -EIO;
out:
	if (fd >= 0)
		close(fd);
}

static void rec_done(void *arg)
{
	struct rec_job *j = arg;
	struct api_req *q = j->q;
	char cr[80];
	bool partial;

	if (j->err == -ENOENT) {
		api_reply_error(q, 404, "not_found", "interaction %s has no recording", q->segs[3]);
	} else if (j->err == -ERANGE) {
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)j->size);
		str_copy(q->content_range, cr, sizeof(q->content_range));
		api_reply_error(q, 416, "range_not_satisfiable", "the recording has %llu bytes",
				(unsigned long long)j->size);
	} else if (j->err == -EINVAL) {
		api_reply_error(q, 400, "invalid_range", "Range must look like bytes=0-1023");
	} else if (j->err) {
		api_reply_error(q, 500, "read_failed", "the recording could not be read");
	} else {
		partial = j->has_range || j->last + 1 < j->size;
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)j->first,
			 (unsigned long long)j->last, (unsigned long long)j->size);
		api_reply_raw(q, partial ? 206 : 200, "audio/wav", partial ? cr : NULL, j->data,
			      j->size ? (size_t)(j->last - j->first + 1) : 0);
	}
	free(j->data);
	api_req_release(q);
	free(j);
}

static void rec_authorised(int err, struct store_ix_detail *d, void *arg)
{
	struct rec_job *j = arg;
	struct api_req *q = j->q;

	if (err || !d->found ||
	    (!api_is_manager(q->user) && d->ix.agent_user_id != user_record(q->user)->id)) {
		api_reply_error(q, 404, "not_found", "interaction %s has no recording", q->segs[3]);
		api_req_release(q);
		free(j);
		return;
	}
	/* With PII redaction on, only administrators hear the original
	 * (docs/TRANSCRIPTS.md): the others get the redacted copy when the
	 * transcript made one (none = nothing was redacted). */
	if (q->api->transcript && transcript_redacting(q->api->transcript) &&
	    !api_has_role(q->user, ROLE_ADMIN))
		snprintf(j->redacted, sizeof(j->redacted), "%.*s.redacted.wav",
			 (int)(strlen(j->path) - 4), j->path); /* path ends in ".wav" */
	if (work_submit(q->api->loop, rec_read, rec_done, j)) {
		api_reply_err(q, -ENOMEM, "");
		api_req_release(q);
		free(j);
	}
}

void api_route_recording(struct api_req *q)
{
	const char *num = q->segs[3];
	struct rec_job *j;

	if (strlen(num) >= ST_NUMBER || strspn(num, "INT0123456789") != strlen(num)) {
		api_reply_error(q, 404, "not_found", "no interaction %.32s", num);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		api_reply_err(q, -ENOMEM, "");
		return;
	}
	snprintf(j->path, sizeof(j->path), "%s/recordings/%s.wav", q->api->cfg->data_dir, num);
	j->has_range = q->wsi &&
		       lws_hdr_copy(q->wsi, j->range, sizeof(j->range), WSI_TOKEN_HTTP_RANGE) > 0;
	j->q = api_req_hold(q);
	if (store_ix_get(q->api->st, num, rec_authorised, j)) {
		api_reply_err(q, -ENOMEM, "");
		api_req_release(q);
		free(j);
	}
}
