/*
 * keylock: serialize shell jobs per key.  main() only dispatches; each
 * subcommand lives in its own cmd_*.c file.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "exits.h"
#include "version.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "acquire",	cmd_acquire },
	{ "forget",	cmd_forget },
	{ "list",	cmd_list },
	{ "release",	cmd_release },
	{ "renew",	cmd_renew },
	{ "run",	cmd_run },
	{ "status",	cmd_status },
};

int
main(int argc, char **argv)
{
	size_t i;
	int fd;

	/* With 0, 1 or 2 closed, our own descriptors would take their
	   numbers and the command would write into them. */
	do
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	while (fd >= 0 && fd <= STDERR_FILENO && fcntl(fd, F_SETFD, 0) == 0);
	if (fd > STDERR_FILENO)
		close(fd);
	if (argc < 2)
		usage_error("missing command");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return version_main(argc - 1, argv + 1);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	usage_error("unknown command '%s'", argv[1]);
}
