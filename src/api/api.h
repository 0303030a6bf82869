/*
 * api.h — the REST API and the WebSocket event stream (libwebsockets on the
 * libuv loop). Routes and their JSON are documented in docs/openapi.yaml.
 *
 * Thread: loop thread. api_alloc registers the HTTP listener on the loop;
 * api_busy tells shutdown whether requests are still in flight.
 */
#ifndef SB_API_H
#define SB_API_H

#include "core/core.h"
#include "routing/routing.h"
#include "store/store.h"

struct api;
struct callctl;
struct hook;
/* cc: call control for the numbers and trunks routes; hook: the webhooks
 * (either NULL: their routes answer 503). */
int api_alloc(struct api **ap, uv_loop_t *loop, const struct config *cfg, struct routing *r,
	      struct store *st, struct callctl *cc, struct hook *hook,
	      const struct st_snapshot *snap);
/* HTTPS: checks http.tls_cert and http.tls_key (readable, PEM, the key is
 * the certificate's); 0 when TLS is off or the files are good, else
 * CC_EBADCONF and "FILE:LINE: message" in err. Called before api_alloc. */
int api_tls_check(const struct config *cfg, char *err, size_t errsz);
/* The transcripts (NULL: off, their routes answer 503); set after api_alloc. */
struct transcript;
void api_transcript_set(struct api *a, struct transcript *t);
/* Requests waiting for the store or a worker. */
size_t api_busy(const struct api *a);
/* Stops listening and closes every connection; the loop must then run until
 * lws has closed its handles. */
void api_free(struct api *a);
/* Call control is about to be freed: the API stops calling it. */
void api_callctl_detach(struct api *a);

/* A contact trace record as the API shows it (GET …/ctr), for webhooks. */
struct json_t *api_ctr_view(const struct st_ctr *c);

#endif
