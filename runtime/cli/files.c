/* files.c - what a command checks about its files before it touches
 * one: that no output is an input or another output, and that every
 * input can be read. And outputs that replace a file only when the run
 * succeeds (written beside it, then renamed).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vm/alloc.h"
#include "cli.h"

/* ---- clobbering ---------------------------------------------------------- */

/* Who a file is: an existing regular file by its device and inode; an
 * output not there yet by its directory's real path and its name;
 * standard output as itself. Devices, pipes and the like are nobody:
 * writing /dev/null twice, or reading a pipe, overwrites nothing. */
struct ident {
	int kind;		/* ID_NONE, ID_INODE, ID_PATH, ID_STDOUT */
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX + NAME_MAX + 2];
};

enum { ID_NONE, ID_INODE, ID_PATH, ID_STDOUT };

static void identify(const struct cli_file *f, struct ident *id)
{
	struct stat st;
	char *copy, *dir;
	int rc;

	id->kind = ID_NONE;
	if (strcmp(f->path, "-") == 0) {
		if (f->writes)
			id->kind = ID_STDOUT;
		/* A redirected standard stream can be a file too. */
		rc = fstat(f->writes ? 1 : 0, &st);
	} else {
		rc = stat(f->path, &st);
	}
	if (rc == 0) {
		if (S_ISREG(st.st_mode)) {
			id->kind = ID_INODE;
			id->dev = st.st_dev;
			id->ino = st.st_ino;
		}
		return;
	}
	if (errno != ENOENT || !f->writes)
		return;
	/* Not there yet: two spellings of one new file must still meet. */
	copy = scrub_strndup(f->path, strlen(f->path));
	if (copy == NULL)
		return;
	dir = realpath(dirname(copy), NULL);
	free(copy);
	copy = scrub_strndup(f->path, strlen(f->path));
	if (dir != NULL && copy != NULL) {
		snprintf(id->path, sizeof id->path, "%s/%s", dir,
			 basename(copy));
		id->kind = ID_PATH;
	}
	free(dir);
	free(copy);
}

static int same(const struct ident *a, const struct ident *b)
{
	if (a->kind != b->kind || a->kind == ID_NONE)
		return 0;
	if (a->kind == ID_INODE)
		return a->dev == b->dev && a->ino == b->ino;
	return a->kind == ID_STDOUT || strcmp(a->path, b->path) == 0;
}

static void describe(const struct cli_file *f, char *out, size_t len)
{
	if (strcmp(f->path, "-") == 0 && !f->writes)
		snprintf(out, len, "standard input");
	else if (strcmp(f->path, "-") == 0)
		snprintf(out, len, "%s (standard output)", f->what);
	else
		snprintf(out, len, "%s '%s'", f->what, f->path);
}

int cli_check_clobber(const char *cmd, const struct cli_file *f, size_t n)
{
	struct ident *id = scrub_calloc(n ? n : 1, sizeof *id);
	char a[PATH_MAX + 64], b[PATH_MAX + 64];
	int rc = 0;

	if (id == NULL) {
		cli_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		identify(&f[i], &id[i]);
	/* Each output against every file before it: inputs are read only,
	 * so two inputs may well be one file. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t j = 0; j < i && rc == 0; j++) {
			if (!f[i].writes && !f[j].writes)
				continue;
			if (!same(&id[i], &id[j]))
				continue;
			describe(&f[j], a, sizeof a);
			describe(&f[i], b, sizeof b);
			cli_error("%s: %s and %s are the same file: %s", cmd,
				  a, b, f[i].writes && f[j].writes ?
				  "each output needs its own" :
				  "refusing to write over an input");
			rc = -1;
		}
	}
	free(id);
	return rc;
}

int cli_check_inputs(char *const *inputs, size_t n)
{
	struct stat st;
	int fd;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(inputs[i], "-") == 0)
			continue;
		if (stat(inputs[i], &st) != 0) {
			cli_error("cannot open '%s': %s", inputs[i],
				  strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			cli_error("cannot read '%s': %s", inputs[i],
				  strerror(EISDIR));
			return -1;
		}
		/* Only a plain file is opened to try: opening a pipe would
		 * wait for its writer, and take it from the real read. */
		if (!S_ISREG(st.st_mode))
			continue;
		fd = open(inputs[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("cannot open '%s': %s", inputs[i],
				  strerror(errno));
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* ---- outputs that replace a file when the run succeeds ------------------- */

/* The temporary files of this process, removed when a signal ends it
 * (a handler can only use what is async-signal-safe: unlink). */
static char *pending[2];

static void on_fatal_signal(int sig)
{
	for (size_t i = 0; i < sizeof pending / sizeof *pending; i++)
		if (pending[i])
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(char *tmp)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE };
	struct sigaction sa;

	for (size_t i = 0; i < sizeof pending / sizeof *pending; i++) {
		if (pending[i] == NULL) {
			pending[i] = tmp;
			break;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void untrack(const char *tmp)
{
	for (size_t i = 0; i < sizeof pending / sizeof *pending; i++)
		if (pending[i] == tmp)
			pending[i] = NULL;
}

int output_open_replace(struct output *o, const char *path)
{
	struct stat st;
	mode_t mask;
	char *tmp;
	int fd, exists;

	/* Standard output, devices, pipes and symbolic links are written
	 * as they are; only a plain file (or none) is replaced. */
	exists = lstat(path, &st) == 0;
	if (strcmp(path, "-") == 0 || (exists && !S_ISREG(st.st_mode)))
		return output_open(o, path);
	tmp = scrub_malloc(strlen(path) + 8);
	if (tmp == NULL) {
		errno = ENOMEM;
		return -1;
	}
	sprintf(tmp, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	track(tmp);
	/* The new file gets the old one's mode, or the usual 0666 less
	 * the umask (mkstemp makes it 0600). */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, exists ? st.st_mode & 07777 : 0666 & ~mask) != 0 ||
	    output_open_fd(o, fd, path) != 0) {
		int err = errno;

		close(fd);
		unlink(tmp);
		untrack(tmp);
		free(tmp);
		errno = err;
		return -1;
	}
	o->tmp = tmp;
	return 0;
}

/* Rename the finished file into place (after output_close's sync). */
int output_commit(struct output *o)
{
	int rc = 0;

	if (o->tmp == NULL)
		return 0;
	if (rename(o->tmp, o->name) != 0) {
		cli_error("cannot replace '%s': %s", o->name,
			  strerror(errno));
		unlink(o->tmp);
		rc = -1;
	}
	untrack(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return rc;
}

void output_discard(struct output *o)
{
	if (o->tmp == NULL)
		return;
	unlink(o->tmp);
	untrack(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}
