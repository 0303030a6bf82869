/*
 * store.h — the records store: a versioned vtable (CONVENTIONS.md §12) with a
 * SQLite backend (store_sqlite.c), and the asynchronous front (store_async.c)
 * that keeps every database call off the loop thread.
 *
 * Threads: store_open/store_load/store_close run on the main thread before or
 * after the loop. store_write/store_query are called on the loop thread; the
 * backend runs on libuv's worker pool; completion callbacks run on the loop.
 * Writes are applied in submission order: the loop keeps a FIFO and hands the
 * pool one batch at a time, committed as one transaction (group commit).
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include "core/core.h"
#include <uv.h>

/* ---- records (fixed-size fields keep rows allocation-free) ---- */
#define ST_NAME	  64   /* user_name, queue name, role name */
#define ST_NOTE	  2000 /* longest note an agent writes, in bytes (UTF-8) */
#define ST_TEXT	  128  /* display name, email, reason */
#define ST_PHONE  32
#define ST_NUMBER 16  /* INT0001001 */
#define ST_HASH	  128 /* argon2id encoded hash */

struct st_user {
	int64_t id;
	char user_name[ST_NAME];
	char name[ST_TEXT];
	char email[ST_TEXT];
	char mobile_phone[ST_PHONE];
	char business_phone[ST_PHONE];
	char password_hash[ST_HASH];
	char sip_ha1[33]; /* MD5(user:realm:sip password), "" = no SIP account */
	bool active;
	int64_t created_at;
};

struct st_user_role {
	int64_t user_id;
	char role[ST_NAME];
};

struct st_agent {
	int64_t user_id;
	char presence[24];
	char away_reason[ST_TEXT];
	int64_t presence_since;
	int capacity;
	int64_t interaction_id; /* current interaction, 0 = none */
};

#define ST_WRAPUP_CODES 640 /* a queue's wrap-up codes, one per line */
struct st_queue {
	int64_t id;
	char name[ST_NAME];
	int priority;
	int sl_threshold_s;
	int max_wait_s;
	char strategy[16];	   /* "longest_idle" */
	int64_t overflow_queue_id; /* after max_wait_s, 0 = none */
	char hold_music[256];	   /* a WAV under calls.flows_dir, "" = the default */
	char wrap_up_codes[ST_WRAPUP_CODES];
	bool deleted;	      /* kept for history; renamed "<name> (deleted <id>)" */
	char sl_abandons[12]; /* callers who hang up within the threshold: "met",
			       * "excluded" or "missed" (docs/WALLBOARD.md) */
};

struct st_member {
	int64_t queue_id;
	int64_t user_id;
	int priority; /* 1 first; longest idle within a priority */
};

/* One administrator's change (GET /api/v1/audit). before/after are short
 * JSON texts of the changed fields, cut to fit. */
#define ST_AUDIT_TEXT 1000
struct st_audit {
	int64_t id;
	int64_t at;
	char actor[ST_NAME];
	char action[32]; /* "queue.create", "user.update", "role.grant", ... */
	char object[ST_TEXT];
	char before[ST_AUDIT_TEXT];
	char after[ST_AUDIT_TEXT];
};

struct st_interaction {
	int64_t id;
	char number[ST_NUMBER];
	char type[16];	    /* "phone" */
	char direction[16]; /* "inbound" | "outbound" */
	char state[24];	    /* new | work_in_progress | closed_complete | closed_abandoned */
	bool queued;	    /* has entered a queue (New is shown either way) */
	char caller_number[ST_PHONE];
	int64_t queue_id;
	int64_t agent_user_id;
	char linked_table[24];
	char linked_number[ST_NAME]; /* a record's number, or a user's user_name */
	int64_t opened_at;
	int64_t closed_at;
	char close_reason[32];
	char wrap_up_code[ST_NAME]; /* set at Clear contact, "" = none */
	char last_note[160];	    /* list reads only: its latest note, cut to fit ("" = none) */
	/* the sums over its contact trace records (the store keeps them: every
	 * CTR write recomputes them; reads only, interaction updates leave them) */
	int64_t talk_ms, hold_ms, queue_ms, acw_ms;
	int ctr_segments; /* snapshot loads: the highest CTR segment written, 0 = none */
};

struct st_activity {
	int64_t id;
	int64_t interaction_id;
	int64_t at;
	char kind[24]; /* state | presence | note | recording | ctr | transcript */
	char actor[ST_NAME];
	char text[ST_NOTE + ST_NAME + 20]; /* a note, or a wrap-up code and a note */
};

struct st_presence_change {
	int64_t user_id;
	int64_t at;
	char from[24];
	char to[24];
	char reason[ST_TEXT];
	int64_t interaction_id;
};

struct st_session {
	char token_hash[65];
	int64_t user_id;
	int64_t created_at;
	int64_t expires_at;
};

struct st_number {
	char did[32];
	int64_t queue_id; /* when flow is "" (must still name a queue: foreign key) */
	char flow[64];	  /* a call flow's name, "" = straight to the queue */
};

struct st_trunk {
	char name[ST_NAME];
	char address[64];  /* source IP allowed without credentials, "" = none */
	char username[64]; /* digest user name, "" = address only */
	char sip_ha1[33];  /* MD5(username:realm:password) */
};

/* An agent's phone registration (callctl/registrar.c), kept across restarts. */
struct st_binding {
	int64_t user_id;
	char contact[256];
	int64_t expires_at; /* ms since the epoch */
};

/* A case (number CS…): what the bot reads back to its customer. */
struct st_case {
	int64_t id;
	char number[ST_NUMBER];
	int64_t contact_user_id;
	char short_description[ST_TEXT];
	char state[24]; /* New, In Progress, On Hold, Resolved, Closed */
	int64_t opened_at, updated_at;
};

/*
 * The records the workspace's forms show (docs/DOMAIN.md "Records"). Keys
 * are numbers the store assigns (CON0001001, CSM…, CS…, INC…); a user's key
 * is its user_name.
 */
enum st_table { ST_T_NONE, ST_T_USER, ST_T_CONTACT, ST_T_CONSUMER, ST_T_CASE, ST_T_INCIDENT };
#define ST_T__N (ST_T_INCIDENT + 1)
/* "user", "contact", ...; NULL for ST_T_NONE */
const char *store_table_name(enum st_table t);
/* 0 and *t, or -EINVAL for a name that is no table */
int store_table_parse(const char *s, enum st_table *t);

/* Fields of a record write (update: only those set; insert: all). */
enum {
	ST_F_NAME = 1 << 0,
	ST_F_EMAIL = 1 << 1,
	ST_F_MOBILE = 1 << 2,
	ST_F_BUSINESS = 1 << 3,
	ST_F_ACCOUNT = 1 << 4,
	ST_F_DESCRIPTION = 1 << 5,
	ST_F_STATE = 1 << 6,
	ST_F_PARTY = 1 << 7, /* a case's contact, an incident's caller */
};

/*
 * One record as the forms show it. For a contact or consumer the phones are
 * its own; for a case they are its contact's (user, contact or consumer),
 * for an incident its caller's, with the party's table, key and name.
 */
struct st_record {
	enum st_table table;
	int64_t id;
	char number[ST_NAME]; /* a user's user_name, or CON…/CSM…/CS…/INC… */
	char name[ST_TEXT];
	char email[ST_TEXT];
	char account[ST_TEXT];
	char short_description[ST_TEXT];
	char state[24];
	char mobile_phone[ST_PHONE];
	char business_phone[ST_PHONE];
	enum st_table party_table; /* ST_T_NONE: no contact / caller */
	char party_key[ST_NAME];
	char party_name[ST_TEXT];
	int64_t created_at, updated_at;
};

/*
 * A write of a contact, consumer, case or incident (STORE_OP_RECORD_*). The
 * party is named by table and key and resolved by the store: one that does
 * not exist fails the write with CC_ENOTFOUND (nothing written). An insert
 * gets the next number from the table's highest, written to out_number
 * (ST_NUMBER bytes, may be NULL) on the pool before the done callback runs.
 * An update or delete of a number that does not exist is CC_ENOTFOUND; a
 * delete of a record a case refers to is CC_ECONFLICT.
 */
struct st_record_write {
	enum st_table table;
	char number[ST_NUMBER]; /* update and delete */
	unsigned set;		/* ST_F_* (update) */
	char name[ST_TEXT];
	char email[ST_TEXT];
	char mobile_phone[ST_PHONE];
	char business_phone[ST_PHONE];
	char account[ST_TEXT];
	char short_description[ST_TEXT];
	char state[24];
	enum st_table party_table; /* ST_T_NONE clears the party */
	char party_key[ST_NAME];
	int64_t at; /* created/opened (insert) or updated */
	char *out_number;
};

/* A conversation record (migration 007): made for an outgoing call when a
 * flag of SPEC.md §3 says so (docs/DOMAIN.md, "Conversations"). */
struct st_conversation {
	int64_t id;
	char number[ST_NUMBER]; /* CNV0001001 */
	int64_t interaction_id;
	char linked_table[24];
	char linked_number[ST_NAME];
	int64_t agent_user_id;
	char flag[ST_NAME]; /* the flag that asked for it */
	int64_t created_at;
};

struct st_flag {
	char name[ST_NAME];
	char value[ST_TEXT];
};

/* An external number an administrator defines for Quick connects (SPEC.md
 * §6, migration 010): agents pick it to transfer a call to. The name is
 * unique in any ASCII case (the store's index and routing both check). */
#define ST_QC_NAME 257 /* 64 characters of UTF-8 */
struct st_quick_connect {
	int64_t id;
	char name[ST_QC_NAME];
	char number[ST_PHONE];
};

/*
 * A contact trace record (SPEC.md §7, docs/CTR.md): one per contact segment
 * of an interaction (a transferred call is a chain of segments, one per
 * agent or queue leg), modelled on Amazon Connect's. Routing builds it and
 * writes it (STORE_OP_CTR_SET, by contact_id: inserted or replaced) when
 * the segment's contact ends and again when its after-contact work ends.
 * Times are ms since 1970 (0 = none), durations ms. Strings are snapshots
 * (a queue renamed later keeps its old name here).
 */
#define ST_CTR_ID    32	  /* "INT0001001-2" */
#define ST_CTR_ATTRS 1536 /* the flow's attributes, a JSON object cut at whole pairs */
struct st_ctr {
	char contact_id[ST_CTR_ID];
	char initial_contact_id[ST_CTR_ID];
	char previous_contact_id[ST_CTR_ID]; /* "" = none */
	char next_contact_id[ST_CTR_ID];     /* "" = none */
	int64_t interaction_id;
	char interaction[ST_NUMBER];
	int segment;	 /* 1, 2, ... */
	char channel[8]; /* VOICE */
	char initiation_method
		[16]; /* inbound | outbound | transfer | queue_transfer | callback | api */
	char customer_endpoint[ST_PHONE];
	char system_endpoint[ST_PHONE];
	char transfer_type[8];	      /* agent | queue | number, "" = not transferred */
	char transferred_to[ST_NAME]; /* user_name, queue name or number */
	int64_t initiation_at, connected_to_system_at, disconnect_at, last_update_at;
	/* queue: the last it waited in during the segment */
	int64_t queue_id;
	char queue[ST_NAME];
	int64_t enqueue_at, dequeue_at, queue_ms;
	/* agent: the one who had the contact in this segment */
	int64_t agent_user_id;
	char agent[ST_NAME];
	char agent_name[ST_TEXT];
	int64_t connected_to_agent_at;
	int64_t talk_ms; /* agent interaction: connected to the end of their part, less holds */
	int64_t hold_ms, longest_hold_ms;
	int holds;
	int64_t acw_start_at, acw_end_at, acw_ms;
	char wrap_up_code[ST_NAME];
	int connection_attempts;    /* offers that rang an agent's phone (answered or not) */
	int missed_offers;	    /* of them, rejected or not answered */
	char intent[ST_NAME];	    /* the bot's, "" = none */
	char recording[96];	    /* the recording's URL, "" = none */
	char disconnect_reason[16]; /* customer | agent | system | transfer | third_party | error */
	char attributes[ST_CTR_ATTRS];
};

/*
 * ---- reports (migration 014, docs/REPORTS.md) ----
 * Aggregates per queue and per agent and 15-minute interval, kept by the
 * store as contact trace records and presence changes are written (each
 * CTR write takes the record's previous contribution out and puts the new
 * one in, in the same transaction), and rolled up into hours, days and
 * weeks when read. The pure parts (what a record contributes, the interval
 * arithmetic, the roll-up) are here for the API and the unit tests.
 */
#define REP_BUCKET_MS 900000LL /* 15 minutes */
enum rep_kind { REP_QUEUE = 1, REP_AGENT = 2 };
enum rep_interval { REP_I15, REP_HOUR, REP_DAY, REP_WEEK };
/* The presence states an agent's time is reported in (Offline is not). */
enum rep_presence {
	REP_P_AVAILABLE,
	REP_P_AWAY,
	REP_P_CALLING,
	REP_P_BUSY,
	REP_P_ACW,
	REP_P_FAILED,
	REP_P_MISSED,
	REP_P__N
};
struct st_rep_row {
	enum rep_kind kind;
	int64_t id;    /* queue id or user id */
	int64_t start; /* the interval's start, ms */
	int64_t offered, answered, answered_in_sl, abandoned, abandoned_in_sl;
	int64_t answer_wait_ms, abandon_wait_ms;
	int64_t handled, outbound;
	int64_t talk_ms, hold_ms, holds, acw_ms, acw_count;
	int64_t transfers_in, transfers_out, missed_offers;
	int64_t presence_ms[REP_P__N];
};
/* "15min" "hour" "day" "week" → 0 and *iv, else -EINVAL. */
int rep_interval_parse(const char *s, enum rep_interval *iv);
const char *rep_interval_name(enum rep_interval iv);
/* The start of the interval holding t, for a site tz_min minutes east of
 * UTC (a multiple of 15); weeks start on Monday. */
int64_t rep_interval_start(int64_t t, enum rep_interval iv, int tz_min);
/* The start of the next interval after the one starting at start. */
int64_t rep_interval_next(int64_t start, enum rep_interval iv, int tz_min);
/* The state's index, or -1 (Offline, unknown). */
int rep_presence_index(const char *state);
const char *rep_presence_name(enum rep_presence p);
/* Walks a span [*from, to) by 15-minute intervals: returns the interval
 * holding *from, sets *ms to the span's part in it and moves *from to the
 * next interval (or to). Call while *from < to. */
int64_t rep_span_piece(int64_t *from, int64_t to, int64_t *ms);
/* What one contact trace record adds to the aggregates: up to two rows
 * (its queue's at the enqueue's interval, its agent's at the connection's),
 * id and start set; sl_ms is the queue's service-level threshold. */
size_t rep_ctr_rows(const struct st_ctr *c, int64_t sl_ms, struct st_rep_row out[2]);
/* a += b (sums; id and start are a's). */
void rep_row_add(struct st_rep_row *a, const struct st_rep_row *b);
/* Rolls rows sorted by (id, start) of 15-minute intervals into intervals
 * iv in place; returns the new count. */
size_t rep_rollup(struct st_rep_row *rows, size_t n, enum rep_interval iv, int tz_min);

/* A report read: kind's rows in [from, to) (15-minute aligned), one id or
 * all (0), rolled up to iv; by (id, start). */
struct store_rep_query {
	enum rep_kind kind;
	int64_t id; /* 0 = every queue / agent */
	int64_t from, to;
	enum rep_interval iv;
	int tz_min;
};
struct store_rep_result {
	struct st_rep_row *rows;
	size_t n;
};
/* The segments behind a report's row (the drill-down), newest first. */
struct store_rep_drill {
	enum rep_kind kind;
	int64_t id; /* queue id or user id */
	int64_t from, to;
	int64_t before_seq; /* keyset cursor, 0 = from the newest */
	int limit;	    /* 1..500 */
};
struct store_rep_segments {
	struct st_ctr *rows;
	int64_t *seq; /* each row's cursor */
	size_t n;
	bool more;
};

/* ---- transcripts (migration 013; transcript/, docs/TRANSCRIPTS.md) ---- */
struct st_transcript {
	int64_t interaction_id;
	char number[ST_NUMBER]; /* reads only: the interaction's number */
	char status[12];	/* queued | running | done | failed */
	char engine[32];
	char reason[12];	    /* policy | on_demand */
	char requested_by[ST_NAME]; /* a user_name, "" = the policy */
	int redacted;		    /* items replaced by [redacted] */
	/* heap strings, copied by store_write; NULL on a write = keep the
	 * stored ones (a status change), on a read = not read */
	char *utterances; /* JSON array */
	char *text;	  /* the words, for the search */
	char error[128];
	int64_t audio_ms, decode_ms, created_at, updated_at;
};
struct st_transcript_policy {
	int64_t queue_id; /* 0 = every queue without a row of its own */
	int percent;	  /* 0..100 */
};

/* ---- webhooks (migration 012; hook/, docs/WEBHOOKS.md) ---- */
#define ST_URL	       1024 /* a webhook's URL, in bytes */
#define ST_SECRET      257  /* a webhook's signing secret: up to 256 bytes */
#define ST_HOOK_EVENTS 64   /* "ctr,interaction,presence" */
#define ST_EVENT_ID    40   /* an event id: 32 hex digits */
#define ST_DELIVERY_ID 64   /* "<event id>-<webhook id>" */
struct st_webhook {
	int64_t id;
	char url[ST_URL];
	char secret[ST_SECRET];
	char events[ST_HOOK_EVENTS]; /* the event types it takes, comma-separated */
	bool active;
	int64_t created_at, updated_at;
};

/*
 * An event into the outbox (STORE_OP_OUTBOX_INSERT): one delivery row for
 * each active webhook whose events list holds `type`, pending, in the same
 * transaction as the ops before it; none when no webhook takes it. The
 * delivery ids are "<event_id>-<webhook id>". body is a NUL-terminated heap
 * string: store_write copies it (the caller still frees its own).
 */
struct st_outbox_event {
	char event_id[ST_EVENT_ID];
	char type[16];
	int64_t at;
	char *body;
};

/* The outcome of one delivery attempt (STORE_OP_OUTBOX_RESULT), by seq:
 * delivered (delivered_at), given up (expired_at) or to retry. */
struct st_outbox_result {
	int64_t seq;
	int attempts;
	int64_t next_attempt_at;
	int64_t delivered_at; /* 0 = not delivered */
	int64_t expired_at;   /* 0 = not given up */
	int last_status;      /* the HTTP status, 0 = no answer */
	char last_error[ST_TEXT];
};

/* One pending delivery, as store_outbox_fetch reads it. */
struct st_outbox_row {
	int64_t seq; /* commit order */
	char id[ST_DELIVERY_ID];
	int64_t webhook_id;
	char type[16];
	int64_t created_at;
	int attempts;
	int64_t next_attempt_at;
	char *body; /* heap; see store_outbox_fetch */
};

/* A webhook's pending deliveries (store_outbox_counts). */
struct st_outbox_count {
	int64_t webhook_id;
	int64_t pending;
	int64_t oldest_at; /* the oldest pending row's created_at */
};

/* Everything the loop keeps in memory, loaded once at start. */
struct st_snapshot {
	struct st_user *users;
	size_t n_users;
	struct st_user_role *user_roles;
	size_t n_user_roles;
	struct st_agent *agents;
	size_t n_agents;
	struct st_queue *queues;
	size_t n_queues;
	struct st_member *members;
	size_t n_members;
	struct st_interaction *open;
	size_t n_open; /* not closed */
	struct st_session *sessions;
	size_t n_sessions;
	struct st_flag *flags;
	size_t n_flags;
	struct st_number *numbers;
	size_t n_numbers;
	struct st_trunk *trunks;
	size_t n_trunks;
	struct st_binding *bindings; /* not expired when loaded */
	size_t n_bindings;
	struct st_quick_connect *quick_connects; /* by id */
	size_t n_quick_connects;
	int64_t max_interaction_id;
	int64_t max_user_id;
	int64_t max_queue_id;
	int64_t max_conversation_id;
	int64_t max_quick_connect_id; /* deleted ones included */
	struct st_webhook *webhooks;  /* by id */
	size_t n_webhooks;
	int64_t max_webhook_id; /* deleted ones included */
	/* transcription jobs queued or running (no text), oldest first */
	struct st_transcript *transcripts;
	size_t n_transcripts;
	struct st_transcript_policy *transcript_policy;
	size_t n_transcript_policy;
	/* the records' short descriptions (cases, incidents; the newest 20,000),
	 * one a line, for the transcripts' domain language model; NULL = none */
	char *record_text;
	size_t record_text_len;
};
void store_snapshot_free(struct st_snapshot *s);

/* ---- writes: typed operations, applied in order ---- */
enum store_op_kind {
	STORE_OP_USER_INSERT,
	STORE_OP_USER_UPDATE,
	STORE_OP_ROLE_GRANT,
	STORE_OP_ROLE_REVOKE,
	STORE_OP_AGENT_UPSERT,
	STORE_OP_PRESENCE_CHANGE,
	STORE_OP_QUEUE_INSERT,
	STORE_OP_MEMBER_ADD,	/* or its priority, when a member already */
	STORE_OP_QUEUE_UPDATE,	/* by id: every field */
	STORE_OP_MEMBER_DELETE, /* by queue_id, user_id (0: every member) */
	STORE_OP_AUDIT_INSERT,
	STORE_OP_INTERACTION_INSERT,
	STORE_OP_INTERACTION_UPDATE,
	STORE_OP_ACTIVITY_INSERT,
	STORE_OP_SESSION_INSERT,
	STORE_OP_SESSION_DELETE,
	STORE_OP_FLAG_SET,
	STORE_OP_NUMBER_SET,
	STORE_OP_TRUNK_SET,
	STORE_OP_NUMBER_DELETE, /* by did */
	STORE_OP_TRUNK_DELETE,	/* by name */
	STORE_OP_CASE_SET,	/* by number */
	STORE_OP_RECORD_INSERT, /* contact, consumer, case, incident */
	STORE_OP_RECORD_UPDATE, /* by number */
	STORE_OP_RECORD_DELETE, /* contact or consumer, by number */
	STORE_OP_CONVERSATION_INSERT,
	STORE_OP_BINDING_SET,		/* by user_id */
	STORE_OP_BINDING_DELETE,	/* by user_id */
	STORE_OP_QUICK_CONNECT_SET,	/* by id: inserted or replaced */
	STORE_OP_QUICK_CONNECT_DELETE,	/* by id */
	STORE_OP_CTR_SET,		/* by contact_id: inserted or replaced; the
					  interaction's sums recomputed */
	STORE_OP_WEBHOOK_SET,		/* by id: inserted or replaced */
	STORE_OP_WEBHOOK_DELETE,	/* by id, with its outbox rows */
	STORE_OP_OUTBOX_INSERT,		/* an event, fanned out to its webhooks */
	STORE_OP_OUTBOX_RESULT,		/* by seq */
	STORE_OP_OUTBOX_PURGE,		/* rows delivered or given up before u.before */
	STORE_OP_TRANSCRIPT_SET,	/* by interaction_id: inserted or updated */
	STORE_OP_TRANSCRIPT_POLICY_SET, /* by queue_id; percent < 0 deletes the row */
};

struct store_op {
	enum store_op_kind kind;
	union {
		struct st_user user;
		struct st_user_role role;
		struct st_agent agent;
		struct st_presence_change presence;
		struct st_queue queue;
		struct st_member member;
		struct st_audit audit;
		struct st_interaction interaction;
		struct st_activity activity;
		struct st_session session;
		struct st_flag flag;
		struct st_number number;
		struct st_trunk trunk;
		struct st_case kase;
		struct st_record_write rec;
		struct st_conversation conversation;
		struct st_binding binding;
		struct st_quick_connect quick;
		struct st_ctr ctr;
		struct st_webhook webhook;
		struct st_outbox_event outbox;
		struct st_outbox_result result;
		struct st_transcript transcript;
		struct st_transcript_policy tpolicy;
		int64_t before;
	} u;
};

/* ---- reads ---- */
struct store_ix_filter {
	char state[24];		/* "" = any */
	int64_t agent_user_id;	/* 0 = any */
	int64_t queue_id;	/* 0 = any */
	char direction[16];	/* "" = any */
	char phone[ST_PHONE];	/* the caller's number as digits (phone_digits), "" = any */
	char words[640];	/* an FTS5 query over the transcripts' text, "" = any */
	int64_t from_ms, to_ms; /* opened_at range, 0 = open */
	int64_t before_id;	/* keyset cursor: rows with id < before_id, 0 = from newest */
	int limit;		/* 1..200 */
};

/* A transcript search's matched words in context: FTS5's snippet() of the
 * redacted text, up to 16 words, the matched words between ST_SNIP_ON and
 * ST_SNIP_OFF (bytes the text never holds), "..." where it was cut. */
#define ST_SNIPPET  256
#define ST_SNIP_ON  '\x01'
#define ST_SNIP_OFF '\x02'
struct store_ix_page {
	struct st_interaction *rows;
	char (*snippets)[ST_SNIPPET]; /* with filter words: one a row; else NULL */
	size_t n;
	bool more; /* another page exists */
};

struct store_ix_detail {
	bool found;
	struct st_interaction ix;
	char transcript[12]; /* its transcript's status (migration 013), "" = none */
	struct st_activity *activity;
	size_t n_activity;
	struct st_conversation *conversations;
	size_t n_conversations;
};

/* Lists of records: newest first, keyset-paginated like interactions. */
struct store_rec_filter {
	enum st_table table;	/* contact, consumer, case or incident */
	char number[ST_NUMBER]; /* "" = any */
	char phone[ST_PHONE];	/* digits (phone_digits), "" = any */
	char q[ST_TEXT];	/* name (or short description) contains, "" = any */
	int64_t before_id;	/* rows with id < before_id, 0 = from newest */
	int limit;		/* 1..200 */
};

struct store_rec_page {
	struct st_record *rows;
	size_t n;
	bool more;
};

/* The audit log: newest first, keyset-paginated. */
struct store_audit_filter {
	char actor[ST_NAME];	/* "" = anyone */
	char action[32];	/* prefix: "queue" matches "queue.create", "" = any */
	char object[ST_TEXT];	/* contains, "" = any */
	int64_t from_ms, to_ms; /* at range, 0 = open */
	int64_t before_id;	/* rows with id < before_id, 0 = from newest */
	int limit;		/* 1..200 */
};

struct store_audit_page {
	struct st_audit *rows;
	size_t n;
	bool more;
};

/* What a click-to-call target resolves to (store_call_target). */
struct store_target {
	bool found;	/* the record exists */
	bool has_phone; /* it (or its contact / caller) has that phone */
	char table[16];
	char key[ST_NAME];
	char phone[16];	       /* "mobile" | "business" */
	char number[ST_PHONE]; /* the phone number to dial */
	char name[ST_TEXT];    /* whom: the person or the record's contact */
};

/* An interaction's contact trace records, by segment. */
struct store_ctr_list {
	bool found; /* the interaction exists */
	struct st_interaction ix;
	struct st_ctr *rows;
	size_t n;
};

/* An interaction and its transcript (store_transcript_get). */
struct store_transcript {
	bool found; /* the interaction exists */
	struct st_interaction ix;
	bool has;		/* it has a transcript row */
	struct st_transcript t; /* utterances and text malloc'd (freed after the callback) */
};

/* Pending outbox rows read at once (store_outbox_fetch). */
struct store_outbox_page {
	struct st_outbox_row *rows;
	size_t n;
};
struct store_outbox_counts {
	struct st_outbox_count *rows; /* webhooks with pending rows, by id */
	size_t n;
};

/* One queue's figures over a period, from its contact trace records
 * (store_queue_day; the wallboard's "today" after a restart,
 * docs/WALLBOARD.md). Segments count by their enqueue time. */
struct st_queue_day {
	int64_t queue_id;
	int64_t offered;	    /* segments that waited in it */
	int64_t answered;	    /* of them, connected to an agent */
	int64_t abandoned;	    /* the customer hung up while waiting */
	int64_t transferred;	    /* answered from it, then transferred */
	int64_t answered_in_sl;	    /* answered within the queue's threshold */
	int64_t abandoned_in_sl;    /* abandoned within it */
	int64_t answer_ms;	    /* the waits of the answered, summed */
	int64_t handled, handle_ms; /* final segments with an agent: talk + hold + ACW */
};

/* ---- the backend vtable ---- */
#define STORE_BACKEND_VERSION 8
struct store_backend {
	int version; /* STORE_BACKEND_VERSION */
	const char *name;
	/* Opens (creating if needed) and migrates. Main thread. */
	int (*open)(void **bep, const char *path, int readers);
	void (*close)(void *be);
	int (*load)(void *be, struct st_snapshot *snap);
	/* Applies ops as one transaction; all or nothing. Worker thread. */
	int (*apply)(void *be, const struct store_op *ops, size_t n);
	/* Worker thread; any number concurrently. */
	int (*ix_list)(void *be, const struct store_ix_filter *f, struct store_ix_page *page);
	int (*ix_get)(void *be, const char *number, struct store_ix_detail *d);
	int (*count_interactions)(void *be, int64_t *n);
	/* The customer's case to talk about: the latest updated one that is not
	 * Closed, else the latest; *found false when there is none. */
	int (*case_latest)(void *be, int64_t contact_user_id, struct st_case *c, bool *found);
	/* version 2: records. rec_get: key is a number (a user_name for users). */
	int (*rec_list)(void *be, const struct store_rec_filter *f, struct store_rec_page *pg);
	int (*rec_get)(void *be, enum st_table t, const char *key, struct st_record *r,
		       bool *found);
	/* The first contact, then consumer, one of whose phones is digits (E.164-aware). */
	int (*party_by_phone)(void *be, const char *digits, struct st_record *r, bool *found);
	/* The latest case (not Closed first) of a contact or consumer. */
	int (*case_latest_of)(void *be, enum st_table party, int64_t party_id, struct st_case *c,
			      bool *found);
	/* version 3: the administrators' audit log. */
	int (*audit_list)(void *be, const struct store_audit_filter *f,
			  struct store_audit_page *pg);
	/* version 4: an interaction's contact trace records (by number). */
	int (*ctr_list)(void *be, const char *number, struct store_ctr_list *l);
	/* version 5: the webhooks' outbox. Up to limit pending rows of a
	 * webhook with seq > after_seq, in seq order; bodies are malloc'd. */
	int (*outbox_fetch)(void *be, int64_t webhook_id, int64_t after_seq, int limit,
			    struct store_outbox_page *pg);
	int (*outbox_counts)(void *be, struct store_outbox_counts *c);
	/* version 6: reports (migration 014). */
	int (*rep_query)(void *be, const struct store_rep_query *q, struct store_rep_result *r);
	int (*rep_segments)(void *be, const struct store_rep_drill *d,
			    struct store_rep_segments *s);
	/* version 7: the queues' figures of segments enqueued in [from, to),
	 * one row per queue that has any (*rows malloc'd, the caller frees). */
	int (*queue_day)(void *be, int64_t from_ms, int64_t to_ms, struct st_queue_day **rows,
			 size_t *n);
	/* version 8: an interaction's transcript (by number). */
	int (*transcript_get)(void *be, const char *number, struct store_transcript *t);
};
extern const struct store_backend store_backend_sqlite;

/* ---- the async front used by the loop ---- */
struct store;
/* Completion on the loop thread; err 0 or negative. */
typedef void(store_done_h)(int err, void *arg);

int store_open(struct store **stp, uv_loop_t *loop, const struct config *cfg);
/* Blocks until queued writes are committed, then closes. Main thread, loop stopped. */
void store_close(struct store *st);
int store_load(struct store *st, struct st_snapshot *snap);
/* The queues' figures of [from, to) (struct st_queue_day), synchronously:
 * for start-up only (before the loop runs). *rows malloc'd. */
int store_queue_day_now(struct store *st, int64_t from_ms, int64_t to_ms,
			struct st_queue_day **rows, size_t *n);
/* Synchronous apply, for start-up only (before the loop runs). */
int store_apply_now(struct store *st, const struct store_op *ops, size_t n);

/*
 * Queues n ops (copied, an outbox event's body too) to be committed in one
 * transaction with whatever else is queued; done (may be NULL) runs on the
 * loop after the commit.
 */
int store_write(struct store *st, const struct store_op *ops, size_t n, store_done_h *done,
		void *arg);
/* Writes queued or in flight (shutdown waits for zero). */
size_t store_pending(const struct store *st);

typedef void(store_ix_list_h)(int err, struct store_ix_page *page, void *arg);
typedef void(store_ix_get_h)(int err, struct store_ix_detail *d, void *arg);
/* Runs on the pool; the callback owns nothing: page/d are freed after it returns. */
int store_ix_list(struct store *st, const struct store_ix_filter *f, store_ix_list_h *h, void *arg);
int store_ix_get(struct store *st, const char *number, store_ix_get_h *h, void *arg);
/* The interaction (l->found) and its contact trace records, by segment. */
typedef void(store_ctr_list_h)(int err, struct store_ctr_list *l, void *arg);
int store_ctr_list(struct store *st, const char *number, store_ctr_list_h *h, void *arg);
typedef void(store_transcript_h)(int err, struct store_transcript *t, void *arg);
int store_transcript_get(struct store *st, const char *number, store_transcript_h *h, void *arg);
/*
 * The webhooks' outbox (docs/WEBHOOKS.md): up to limit (1..256) pending rows
 * of a webhook after after_seq, oldest first. The callback may keep a row's
 * body by setting pg->rows[i].body to NULL (it then frees it with free());
 * everything else is freed after it returns.
 */
typedef void(store_outbox_fetch_h)(int err, struct store_outbox_page *pg, void *arg);
int store_outbox_fetch(struct store *st, int64_t webhook_id, int64_t after_seq, int limit,
		       store_outbox_fetch_h *h, void *arg);
/* Frees a page's rows and their bodies (for the backend's direct callers). */
void store_outbox_page_free(struct store_outbox_page *pg);
/* How many deliveries each webhook has pending; c is freed after the callback. */
typedef void(store_outbox_counts_h)(int err, const struct store_outbox_counts *c, void *arg);
int store_outbox_counts(struct store *st, store_outbox_counts_h *h, void *arg);
/* Reports (docs/REPORTS.md): pool reads; r / s are freed after the callback. */
typedef void(store_rep_h)(int err, struct store_rep_result *r, void *arg);
int store_rep_query(struct store *st, const struct store_rep_query *q, store_rep_h *h, void *arg);
typedef void(store_rep_segments_h)(int err, struct store_rep_segments *s, void *arg);
int store_rep_segments(struct store *st, const struct store_rep_drill *d, store_rep_segments_h *h,
		       void *arg);
/* c is NULL when the customer has no case. */
typedef void(store_case_h)(int err, const struct st_case *c, void *arg);
int store_case_latest(struct store *st, int64_t contact_user_id, store_case_h *h, void *arg);
/* The same for a case whose contact is a contact or a consumer (party_id). */
int store_case_latest_of(struct store *st, enum st_table party, int64_t party_id, store_case_h *h,
			 void *arg);

/* ---- records (pool reads; the callback owns nothing) ---- */
typedef void(store_rec_list_h)(int err, struct store_rec_page *pg, void *arg);
/* r is NULL when there is no such record. */
typedef void(store_rec_get_h)(int err, const struct st_record *r, void *arg);
int store_rec_list(struct store *st, const struct store_rec_filter *f, store_rec_list_h *h,
		   void *arg);
int store_rec_get(struct store *st, enum st_table t, const char *key, store_rec_get_h *h,
		  void *arg);
typedef void(store_audit_list_h)(int err, struct store_audit_page *pg, void *arg);
int store_audit_list(struct store *st, const struct store_audit_filter *f, store_audit_list_h *h,
		     void *arg);
/* Caller identification: the contact, else the consumer, with that phone
 * (any format; with or without its country code); r NULL when none. */
int store_party_by_phone(struct store *st, const char *number, store_rec_get_h *h, void *arg);

/*
 * Click-to-call: resolves (table, key, phone kind) to the number to dial.
 * table: user, contact, consumer, case, incident; key: a user_name or a
 * record's number; phone: "mobile" or "business". A case dials its contact,
 * an incident its caller. The callback gets err 0 and t->found false (no
 * such record) or t->has_phone false (no such phone), or the number; -EINVAL
 * (at once, no callback) for an unknown table or phone kind. Loop thread;
 * the lookup runs on the pool; t is freed after the callback returns.
 */
typedef void(store_target_h)(int err, const struct store_target *t, void *arg);
int store_call_target(struct store *st, const char *table, const char *key, const char *phone,
		      store_target_h *h, void *arg);

#endif
