/*
 * fuzz_config.c — libFuzzer target for the YAML config loader.
 *
 * Loads the input over the defaults and checks the loader's contract beyond
 * "no crash": success yields in-range values and terminated strings; failure
 * returns CC_EBADCONF with a "x.yaml:..." message and leaves the config
 * byte-for-byte unchanged. Seeds: tests/fuzz/corpus/config/.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_loaded(const struct config *c)
{
	check(terminated(c->data_dir, sizeof(c->data_dir)) && c->data_dir[0]);
	check(terminated(c->http_address, sizeof(c->http_address)) && c->http_address[0]);
	check(terminated(c->store_path, sizeof(c->store_path)));
	check(!strcmp(c->store_backend, "sqlite"));
	check(c->http_port >= 1 && c->http_port <= 65535);
	check(c->store_readers >= 1 && c->store_readers <= 64);
	check(c->session_ttl_s >= 60 && c->session_ttl_s <= 2592000);
	check(c->http_max_body >= 1024 && c->http_max_body <= 16777216);
	check(c->log_level >= LOG_DEBUG && c->log_level <= LOG_ERROR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, def;
	char err[256];
	int rc;

	config_defaults(&cfg);
	config_defaults(&def);
	rc = config_load_buf(&cfg, "x.yaml", (const char *)data, size, err, sizeof(err));
	if (rc == 0) {
		check_loaded(&cfg);
		config_finish(&cfg);
		check(cfg.store_path[0] != '\0');
		return 0;
	}
	check(rc == CC_EBADCONF || rc == -ENOMEM);
	check(!strncmp(err, "x.yaml:", 7) && strlen(err) > 8);
	check(!memcmp(&cfg, &def, sizeof(cfg)));
	return 0;
}
