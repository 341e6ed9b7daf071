/* main.c - the `scrub` command: run policies over events. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: scrub COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  run            apply a policy to NDJSON events\n"
	"  replay         replay archived events to NDJSON or an event bus\n"
	"  detect         find personal data and secrets in lines of text\n"
	"  test-pattern   test an EventBridge event pattern against an event\n"
	"\n"
	"'scrub COMMAND --help' describes each command.\n";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "replay", cmd_replay },
	{ "detect", cmd_detect },
	{ "test-pattern", cmd_test_pattern },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("scrub " SCRUB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s'", argv[1]);
	fputs(usage, stderr);
	return 2;
}
