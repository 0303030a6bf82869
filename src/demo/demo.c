/*
 * demo.c — the demo site and the bootstrap admin.
 *
 * DESIGN
 * - The demo is plain data written through the store's typed ops, exactly
 *   as the API would write it, so the demo exercises the real paths.
 * - Demo people follow the seed's transfer example (Amy the customer, Ned
 *   and Beth the agents) plus a manager, an admin and an agent who lacks
 *   the second role of a pair (to show the refusal of SPEC.md §5).
 */
#define LOG_MODULE "demo"
#include "demo/demo.h"
#include "sip/sip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_PASSWORD	    "demo-pass"
#define DEMO_TRUNK_PASSWORD "trunk-pass"

struct demo_user {
	const char *user_name, *name, *email, *mobile, *business;
	const char *roles[5];
};

static const struct demo_user demo_users[] = {
	{"admin", "Ada Admin", "admin@example.com", "", "+1 555 0100", {"admin"}},
	{"mia", "Mia Manager", "mia@example.com", "", "+1 555 0101", {"voice_manager"}},
	{"ned",
	 "Ned Agent",
	 "ned@example.com",
	 "+1 555 0102",
	 "+1 555 0112",
	 {"sn_openframe.user", "interaction_agent", "awa_agent", "awa_integration_user"}},
	{"beth",
	 "Beth Agent",
	 "beth@example.com",
	 "+1 555 0103",
	 "",
	 {"sn_openframe.user", "interaction_agent"}},
	{"carl", "Carl Trainee", "carl@example.com", "", "", {"awa_agent"}},
	{"amy", "Amy Customer", "amy@example.com", "+1 555 0199", "", {NULL}},
};

struct demo_queue {
	const char *name;
	int priority, sl, max_wait;
	int64_t overflow; /* queue id, with max_wait */
	const char *codes;
	const char *members[4];
};

/* Support overflows to Billing after 10 minutes; Billing has no maximum. */
static const struct demo_queue demo_queues[] = {
	{"Support",
	 1,
	 20,
	 600,
	 2,
	 "Resolved\nCallback needed\nEscalated\nWrong number",
	 {"ned", "beth"}},
	{"Billing",
	 2,
	 30,
	 0,
	 0,
	 "Resolved\nRefund issued\nPayment taken\nEscalated",
	 {"beth", "carl", "ned"}},
};

static void op_user(struct store_op *op, int64_t id, const struct demo_user *d, const char *hash)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_USER_INSERT;
	op->u.user.id = id;
	str_copy(op->u.user.user_name, d->user_name, sizeof(op->u.user.user_name));
	str_copy(op->u.user.name, d->name, sizeof(op->u.user.name));
	str_copy(op->u.user.email, d->email, sizeof(op->u.user.email));
	str_copy(op->u.user.mobile_phone, d->mobile, sizeof(op->u.user.mobile_phone));
	str_copy(op->u.user.business_phone, d->business, sizeof(op->u.user.business_phone));
	str_copy(op->u.user.password_hash, hash, sizeof(op->u.user.password_hash));
	op->u.user.active = true;
	op->u.user.created_at = time_now_ms();
}

/* Writes one user with its agent row and roles; agents and managers get a
 * SIP account (a manager monitors calls from their own phone). */
static int user_write(struct store *st, int64_t id, const struct demo_user *d, const char *hash,
		      const char *realm)
{
	struct store_op ops[8];
	size_t n = 1;

	op_user(&ops[0], id, d, hash);
	if (realm && d->roles[0] && strcmp(d->roles[0], "admin"))
		sip_digest_ha1(d->user_name, realm, DEMO_PASSWORD, ops[0].u.user.sip_ha1);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].kind = STORE_OP_AGENT_UPSERT;
	ops[n].u.agent.user_id = id;
	str_copy(ops[n].u.agent.presence, "Offline", sizeof(ops[n].u.agent.presence));
	ops[n].u.agent.presence_since = time_now_ms();
	ops[n++].u.agent.capacity = 1;
	for (int k = 0; k < 5 && d->roles[k]; k++, n++) {
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].kind = STORE_OP_ROLE_GRANT;
		ops[n].u.role.user_id = id;
		str_copy(ops[n].u.role.role, d->roles[k], sizeof(ops[n].u.role.role));
	}
	return store_apply_now(st, ops, n);
}

static int64_t user_id_of(const char *name)
{
	for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
		if (!strcmp(demo_users[i].user_name, name))
			return (int64_t)i + 1;
	return 0;
}

static int queues_write(struct store *st)
{
	struct store_op op;
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(demo_queues) / sizeof(demo_queues[0]); i++) {
		const struct demo_queue *q = &demo_queues[i];
		memset(&op, 0, sizeof(op));
		op.kind = STORE_OP_QUEUE_INSERT;
		op.u.queue = (struct st_queue){.id = (int64_t)i + 1,
					       .priority = q->priority,
					       .sl_threshold_s = q->sl,
					       .max_wait_s = q->max_wait,
					       .overflow_queue_id = q->overflow};
		str_copy(op.u.queue.name, q->name, sizeof(op.u.queue.name));
		str_copy(op.u.queue.strategy, "longest_idle", sizeof(op.u.queue.strategy));
		str_copy(op.u.queue.wrap_up_codes, q->codes, sizeof(op.u.queue.wrap_up_codes));
		err = store_apply_now(st, &op, 1);
		for (int k = 0; !err && k < 4 && q->members[k]; k++) {
			memset(&op, 0, sizeof(op));
			op.kind = STORE_OP_MEMBER_ADD;
			op.u.member.queue_id = (int64_t)i + 1;
			op.u.member.user_id = user_id_of(q->members[k]);
			err = store_apply_now(st, &op, 1);
		}
	}
	return err;
}

static int numbers_write(struct store *st, const char *realm)
{
	struct store_op ops[5] = {{.kind = STORE_OP_NUMBER_SET},
				  {.kind = STORE_OP_NUMBER_SET},
				  {.kind = STORE_OP_TRUNK_SET},
				  {.kind = STORE_OP_TRUNK_SET},
				  {.kind = STORE_OP_NUMBER_SET}};

	str_copy(ops[0].u.number.did, "5000", sizeof(ops[0].u.number.did));
	ops[0].u.number.queue_id = 1;
	str_copy(ops[1].u.number.did, "5001", sizeof(ops[1].u.number.did));
	ops[1].u.number.queue_id = 2;
	str_copy(ops[2].u.trunk.name, "loopback", sizeof(ops[2].u.trunk.name));
	str_copy(ops[2].u.trunk.address, "127.0.0.1", sizeof(ops[2].u.trunk.address));
	/* a carrier that authenticates instead (from any address) */
	str_copy(ops[3].u.trunk.name, "carrier", sizeof(ops[3].u.trunk.name));
	str_copy(ops[3].u.trunk.username, "carrier", sizeof(ops[3].u.trunk.username));
	sip_digest_ha1("carrier", realm, DEMO_TRUNK_PASSWORD, ops[3].u.trunk.sip_ha1);
	/* 5002 runs the demo's call flow (demo_write_flows) */
	str_copy(ops[4].u.number.did, "5002", sizeof(ops[4].u.number.did));
	str_copy(ops[4].u.number.flow, "main", sizeof(ops[4].u.number.flow));
	ops[4].u.number.queue_id = 1; /* must name a queue; the flow decides */
	return store_apply_now(st, ops, 5);
}

/* Two external quick connects (SPEC.md §6): numbers agents may transfer a
 * call to. In demo mode calls.outbound_uri sends any number to the demo's
 * built-in customer, so a transfer to either is answered. Not 0150/0151:
 * those are demo consumers' phones, and caller lookup would name them. */
static int quick_connects_write(struct store *st)
{
	static const char *const qc[][2] = {{"Legal desk", "+1 555 0170"},
					    {"Field service", "+1 555 0171"}};
	struct store_op ops[2];

	for (size_t i = 0; i < 2; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].kind = STORE_OP_QUICK_CONNECT_SET;
		ops[i].u.quick.id = (int64_t)i + 1;
		str_copy(ops[i].u.quick.name, qc[i][0], sizeof(ops[i].u.quick.name));
		str_copy(ops[i].u.quick.number, qc[i][1], sizeof(ops[i].u.quick.number));
	}
	return store_apply_now(st, ops, 2);
}

/* Amy's cases: the bot reads the open one back to her (docs/FLOWS.md). */
static int cases_write(struct store *st)
{
	static const struct {
		const char *number, *customer, *what, *state;
		int days_ago;
	} cases[] = {
		{"CS0001001", "amy", "Invoice shows the wrong address", "Closed", 30},
		{"CS0001002", "amy", "Router keeps dropping the connection", "In Progress", 2},
	};
	struct store_op ops[2];
	int64_t now = time_now_ms();

	for (size_t i = 0; i < 2; i++) {
		struct st_case *c = &ops[i].u.kase;
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].kind = STORE_OP_CASE_SET;
		str_copy(c->number, cases[i].number, sizeof(c->number));
		c->contact_user_id = user_id_of(cases[i].customer);
		str_copy(c->short_description, cases[i].what, sizeof(c->short_description));
		str_copy(c->state, cases[i].state, sizeof(c->state));
		c->opened_at = now - (int64_t)cases[i].days_ago * 86400000;
		c->updated_at = c->opened_at + (i == 1 ? 3600000 : 86400000);
	}
	return store_apply_now(st, ops, 2);
}

/* Records for the forms (docs/DOMAIN.md "Records"), written as the API
 * writes them: the store numbers them CON0001001…, CSM0001001…, CS0001003…,
 * INC0001001… in this order. One of each kind has no phone (no call target). */
struct demo_record {
	enum st_table table;
	const char *name, *email, *mobile, *business, *account;
	const char *what, *state;
	enum st_table party;
	const char *party_key;
};

static const struct demo_record demo_records[] = {
	{ST_T_CONTACT, "Paula Price", "paula@acme.example", "+1 555 0140", "+1 555 0141",
	 "Acme Corp", NULL, NULL, ST_T_NONE, NULL},
	{ST_T_CONTACT, "Omar Ortiz", "omar@globex.example", "", "+44 20 7946 0958", "Globex", NULL,
	 NULL, ST_T_NONE, NULL},
	{ST_T_CONTACT, "Nora North", "nora@initech.example", "", "", "Initech", NULL, NULL,
	 ST_T_NONE, NULL},
	{ST_T_CONSUMER, "Connie Consumer", "connie@example.net", "+1 555 0150", "", NULL, NULL,
	 NULL, ST_T_NONE, NULL},
	{ST_T_CONSUMER, "Sam Shopper", "sam@example.net", "", "+1 555 0151", NULL, NULL, NULL,
	 ST_T_NONE, NULL},
	{ST_T_CASE, .what = "Cannot sign in to the customer portal", .state = "New",
	 .party = ST_T_CONTACT, .party_key = "CON0001001"},
	{ST_T_CASE, .what = "Refund for a double charge", .state = "On Hold",
	 .party = ST_T_CONSUMER, .party_key = "CSM0001001"},
	{ST_T_CASE, .what = "Quote for twenty more seats", .state = "New", .party = ST_T_CONTACT,
	 .party_key = "CON0001003"},
	{ST_T_INCIDENT, .what = "Laptop does not boot after the update", .state = "In Progress",
	 .party = ST_T_USER, .party_key = "ned"},
	{ST_T_INCIDENT, .what = "VPN drops every hour", .state = "New", .party = ST_T_USER,
	 .party_key = "beth"},
	{ST_T_INCIDENT, .what = "Needs access to the Billing queue", .state = "New",
	 .party = ST_T_USER, .party_key = "carl"},
};

static int records_write(struct store *st)
{
	int64_t now = time_now_ms();
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(demo_records) / sizeof(demo_records[0]); i++) {
		const struct demo_record *d = &demo_records[i];
		struct store_op op = {.kind = STORE_OP_RECORD_INSERT};
		struct st_record_write *w = &op.u.rec;

		w->table = d->table;
		str_copy(w->name, d->name ? d->name : "", sizeof(w->name));
		str_copy(w->email, d->email ? d->email : "", sizeof(w->email));
		str_copy(w->mobile_phone, d->mobile ? d->mobile : "", sizeof(w->mobile_phone));
		str_copy(w->business_phone, d->business ? d->business : "",
			 sizeof(w->business_phone));
		str_copy(w->account, d->account ? d->account : "", sizeof(w->account));
		str_copy(w->short_description, d->what ? d->what : "",
			 sizeof(w->short_description));
		str_copy(w->state, d->state ? d->state : "", sizeof(w->state));
		w->party_table = d->party;
		str_copy(w->party_key, d->party_key ? d->party_key : "", sizeof(w->party_key));
		w->set = ~0u;
		w->at = now - (int64_t)(sizeof(demo_records) / sizeof(demo_records[0]) - i) * 60000;
		err = store_apply_now(st, &op, 1);
	}
	return err;
}

int demo_seed_site(struct store *st, const struct st_snapshot *snap, const char *realm,
		   bool *created)
{
	char hash[ST_HASH];
	int err;

	*created = false;
	if (snap->n_users)
		return 0;
	err = password_hash(DEMO_PASSWORD, hash, sizeof(hash));
	for (size_t i = 0; !err && i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
		err = user_write(st, (int64_t)i + 1, &demo_users[i], hash, realm);
	if (!err)
		err = queues_write(st);
	if (!err)
		err = numbers_write(st, realm);
	if (!err)
		err = quick_connects_write(st);
	if (!err)
		err = cases_write(st);
	if (!err)
		err = records_write(st);
	if (!err) {
		*created = true;
		log_info("created the demo site: %zu users, %zu queues",
			 sizeof(demo_users) / sizeof(demo_users[0]),
			 sizeof(demo_queues) / sizeof(demo_queues[0]));
	}
	return err;
}

int demo_seed_admin(struct store *st, const struct st_snapshot *snap)
{
	const struct demo_user admin = {"admin", "Administrator", "", "", "", {"admin"}};
	const char *env = getenv("SWITCHBOARD_ADMIN_PASSWORD");
	char pw[33], hash[ST_HASH];
	int err;

	if (snap->n_users)
		return 0;
	if (env && strlen(env) >= 8)
		str_copy(pw, env, sizeof(pw));
	else
		token_random_hex(pw, sizeof(pw), 12);
	err = password_hash(pw, hash, sizeof(hash));
	if (!err)
		err = user_write(st, 1, &admin, hash, NULL);
	if (!err && !(env && strlen(env) >= 8))
		fprintf(stderr,
			"\nFirst start: created user 'admin' with password '%s' "
			"(shown once; change it with PATCH /api/v1/users/admin)\n\n",
			pw);
	return err;
}

void demo_print_welcome(const struct config *cfg)
{
	const char *scheme = cfg->http_tls_cert[0] ? "https" : "http";

	fprintf(stderr,
		"\n  Switchboard demo is running: %s://127.0.0.1:%d/api/v1/health\n"
		"  Sign in with POST /api/v1/login {\"user_name\":..., \"password\":\"%s\"}:\n"
		"    admin  administrator          mia   manager (voice_manager)\n"
		"    ned    agent (both role pairs) beth  agent (sn_openframe.user + "
		"interaction_agent)\n"
		"    carl   trainee: awa_agent only, refused calls   amy  a customer (no roles)\n"
		"  Queues: Support (ned, beth), Billing (beth, carl, ned). Data: %s\n"
		"  Phones: agents register at sip:%s:%d as ned/beth/carl, password %s;\n"
		"          callers from %s dial 5000 (Support), 5001 (Billing) or 5002\n"
		"          (the call flow: greeting, bot, menu); from elsewhere a trunk\n"
		"          authenticates as carrier / %s.\n"
		"  Quick connects: Legal desk (+1 555 0170), Field service (+1 555 0171).\n"
		"  Example: curl -s %s://localhost:%d/api/v1/login -d "
		"'{\"user_name\":\"ned\",\"password\":\"%s\"}'\n\n",
		scheme, cfg->http_port, DEMO_PASSWORD, cfg->store_path, cfg->sip_address,
		cfg->sip_port, DEMO_PASSWORD, cfg->sip_address, DEMO_TRUNK_PASSWORD, scheme,
		cfg->http_port, DEMO_PASSWORD);
}

static const char demo_flow[] =
	"# The demo's call flow (docs/FLOWS.md), run by number 5002: a greeting\n"
	"# by name when the number is known, a bot that answers \"what is the\n"
	"# status of my case\" by itself, and a keypad menu to fall back on.\n"
	"name: main\n"
	"start: greet\n"
	"blocks:\n"
	"  greet:\n"
	"    kind: play\n"
	"    text: Hello {caller.first_name|there}, thank you for calling Switchboard.\n"
	"    next: ask\n"
	"  ask:\n"
	"    kind: bot\n"
	"    text: In a few words, how can I help you? For support, press 1. For billing, "
	"press 2.\n"
	"    timeout: 6\n"
	"    retries: 1\n"
	"    threshold: 50\n"
	"    intents:\n"
	"      status:\n"
	"        phrases: [what is the status of my case, check my case status, where is my "
	"case, is my case fixed]\n"
	"        answer: Your case {case.number}, {case.short_description}, is {case.state}. "
	"Goodbye.\n"
	"        deflect: true\n"
	"        requires: case.number   # no case found: an agent takes it\n"
	"        goto: support\n"
	"      agent:\n"
	"        phrases: [talk to an agent, speak to a person, i want an agent, "
	"representative, help me please]\n"
	"        goto: support\n"
	"      support:\n"
	"        phrases: [technical support, my router is broken, i need support]\n"
	"        dtmf: \"1\"\n"
	"        goto: support\n"
	"      billing:\n"
	"        phrases: [billing, i have a question about my bill, pay my bill]\n"
	"        dtmf: \"2\"\n"
	"        goto: billing\n"
	"    no_match: menu\n"
	"    no_input: menu\n"
	"  menu:\n"
	"    kind: menu\n"
	"    text: For support, press 1. For billing, press 2.\n"
	"    choices: {\"1\": support, \"2\": billing}\n"
	"    timeout: 5\n"
	"    retries: 1\n"
	"    no_input: support\n"
	"    no_match: menu\n"
	"  support: {kind: queue, queue: Support}\n"
	"  billing: {kind: queue, queue: Billing}\n";

int demo_write_flows(const char *dir)
{
	char path[600];
	FILE *f;

	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/main.yaml", dir);
	if (access(path, F_OK) == 0)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(demo_flow, f);
	return fclose(f) ? -EIO : 0;
}
