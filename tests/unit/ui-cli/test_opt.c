/* test_opt.c - the one command-line parser of ui-cli (cli_opt.c) against a test command table:
   every option type, the usage errors (one line, exit 2), groups, and the generated help. */
#include "testutil.h"

#include <fcntl.h>

#include "cli.h"
#include "cli_opt.h"

static const char *const colours[] = {"red", "green", NULL};

static const cli_opt t_opts[] = {
	CLI_O("flag", CLI_FLAG, NULL, "a flag"),
	CLI_O("name", CLI_STR, "NAME", "a name"),
	CLI_O("file", CLI_PATH, "FILE", "a path"),
	CLI_O("pin-file", CLI_SECRET, "F", "a secret file"),
	CLI_O("count", CLI_NUM, "N", "a number", .lo = 1, .hi = 10),
	CLI_O("days", CLI_DAYS, "DAYS", "days", .lo = 0, .hi = 36500),
	CLI_O("serial", CLI_SERIAL, NULL, "a serial"),
	CLI_O("colour", CLI_ENUM, NULL, "an enum", .values = colours),
	CLI_O("csr", CLI_LIST, "FILE", "files", .flags = CLI_WORDS),
	CLI_O("san", CLI_LIST, "NAME", "names", .flags = CLI_COMMA),
	CLI_END};

static int ran;

static int t_run(const cli_cmd *cmd, cli_args *a)
{
	(void)cmd;
	(void)a;
	ran++;
	return 0;
}

static const cli_cmd t_cmd = {.name = "t", .summary = "a test command", .operands = "[ARG]", .max_pos = 1,
			      .opts = t_opts, .run = t_run};

static const cli_opt r_opts[] = {CLI_O("must", CLI_STR, "X", "required", .flags = CLI_REQUIRED), CLI_END};
static const cli_cmd sub_a = {.name = "g a", .summary = "sub a", .opts = r_opts, .max_pos = 0, .run = t_run};
static const cli_opt home_opt[] = {CLI_OPT_HOME, CLI_O("quiet", CLI_FLAG, NULL, "q"), CLI_END};
static const cli_cmd sub_b = {.name = "g b", .summary = "sub b", .operands = "ID", .min_pos = 1, .max_pos = 1,
			      .opts = home_opt, .run = t_run};
static const cli_cmd *const g_subs[] = {&sub_a, &sub_b, NULL};
static const cli_cmd g_cmd = {.name = "g", .summary = "a group", .subs = g_subs};

/* what cli_opt.c looks up for "does not apply": this test's commands */
const cli_entry cli_commands[] = {{"t", &t_cmd, NULL, NULL}, {"g", &g_cmd, NULL, NULL}, {NULL, NULL, NULL, NULL}};

/* Parse argv (NULL-terminated) with stderr captured; returns the exit code, *err the stderr text. */
static int parse(const cli_cmd *cmd, cli_args *a, char *err, size_t cap, ...)
{
	char *argv[32];
	int argc = 0, saved = dup(2), r;
	FILE *tmp = tmpfile();
	va_list ap;
	size_t n;

	va_start(ap, cap);
	for (char *s = va_arg(ap, char *); s != NULL && argc < 31; s = va_arg(ap, char *))
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stderr);
	dup2(fileno(tmp), 2);
	r = cli_parse(cmd, argc, argv, a);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, cap - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return r;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_types(void **state)
{
	cli_args a;
	char err[1024];
	size_t n;
	const char *const *l;

	(void)state;
	assert_int_equal(parse(&t_cmd, &a, err, sizeof(err), "t", "--flag", "--name", "x y", "--file=/tmp/f", "--pin-file",
			       "p", "--count", "10", "--days=0", "--serial", "0A:1b", "--colour", "green", "op", NULL), 0);
	assert_string_equal(err, "");
	assert_true(cli_flag(&a, "flag"));
	assert_string_equal(cli_str(&a, "name"), "x y");
	assert_string_equal(cli_str(&a, "file"), "/tmp/f");
	assert_string_equal(cli_str(&a, "pin-file"), "p");
	assert_int_equal(cli_num(&a, "count", -1), 10);
	assert_int_equal(cli_num(&a, "days", -1), 0);
	assert_string_equal(cli_str(&a, "serial"), "0A:1b");
	assert_string_equal(cli_str(&a, "colour"), "green");
	assert_int_equal(a.npos, 1);
	assert_string_equal(a.pos[0], "op");
	assert_null(cli_opt_if(&a, "nothing-declares-this"));
	cli_args_free(&a);
	/* not given: NULL / the default; a list: repeated, comma-split, free words after a WORDS list */
	assert_int_equal(parse(&t_cmd, &a, err, sizeof(err), "t", "--csr", "a", "b", "--san", "x,y", "--san=z", "c", NULL), 0);
	assert_false(cli_flag(&a, "flag"));
	assert_null(cli_str(&a, "name"));
	assert_int_equal(cli_num(&a, "count", 7), 7);
	l = cli_list(&a, "csr", &n);
	assert_int_equal(n, 3);
	assert_string_equal(l[0], "a");
	assert_string_equal(l[1], "b");
	assert_string_equal(l[2], "c");
	l = cli_list(&a, "san", &n);
	assert_int_equal(n, 3);
	assert_string_equal(l[0], "x");
	assert_string_equal(l[1], "y");
	assert_string_equal(l[2], "z");
	assert_int_equal(a.npos, 0);
	cli_args_free(&a);
	/* "--" ends the options: "--flag" after it is an operand */
	assert_int_equal(parse(&t_cmd, &a, err, sizeof(err), "t", "--", "--flag", NULL), 0);
	assert_false(cli_flag(&a, "flag"));
	assert_string_equal(a.pos[0], "--flag");
	cli_args_free(&a);
}

/* Each bad command line: exit 2, exactly one stderr line naming the problem and the help. */
static void bad(const char *want, ...)
{
	char *argv[16], err[1024];
	int argc = 0, saved = dup(2), r;
	FILE *tmp = tmpfile();
	cli_args a;
	va_list ap;
	size_t n;
	const cli_cmd *cmd;

	va_start(ap, want);
	cmd = va_arg(ap, const cli_cmd *);
	for (char *s = va_arg(ap, char *); s != NULL && argc < 15; s = va_arg(ap, char *))
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stderr);
	dup2(fileno(tmp), 2);
	r = cli_parse(cmd, argc, argv, &a);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, sizeof(err) - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	cli_args_free(&a);
	if (r != 2 || lines(err) != 1 || strstr(err, want) == NULL || strstr(err, "see 'offca") == NULL)
		fail_msg("%s: exit %d, stderr '%s', want '%s'", argv[1] ? argv[1] : "", r, err, want);
}

static void test_errors(void **state)
{
	(void)state;
	bad("offca t: unknown option '--nope'", &t_cmd, "t", "--nope", NULL);
	bad("unknown option '--nope'", &t_cmd, "t", "--nope=1", NULL);
	bad("unknown option '-x'", &t_cmd, "t", "-x", NULL);
	bad("option '--must' does not apply to t", &t_cmd, "t", "--must", "1", NULL);
	bad("option '--name' needs a value", &t_cmd, "t", "--name", NULL);
	bad("option '--flag' takes no value", &t_cmd, "t", "--flag=1", NULL);
	bad("--file needs a path", &t_cmd, "t", "--file", "", NULL);
	bad("--pin-file needs a path", &t_cmd, "t", "--pin-file=", NULL);
	bad("--count takes a number 1..10, not '11'", &t_cmd, "t", "--count", "11", NULL);
	bad("--count takes a number 1..10, not '0'", &t_cmd, "t", "--count", "0", NULL);
	bad("--count takes a number 1..10, not '3x'", &t_cmd, "t", "--count", "3x", NULL);
	bad("--days takes a number of days 0..36500, not '-1'", &t_cmd, "t", "--days", "-1", NULL);
	bad("--days takes a number of days 0..36500, not '99999999999999999999'", &t_cmd, "t", "--days",
	    "99999999999999999999", NULL);
	bad("--days takes a number of days 0..36500, not ''", &t_cmd, "t", "--days=", NULL);
	bad("--serial takes a hex serial", &t_cmd, "t", "--serial", "0G", NULL);
	bad("--serial takes a hex serial", &t_cmd, "t", "--serial", "11111111112222222222333333333344444444445", NULL);
	bad("--colour takes one of red, green, not 'blue'", &t_cmd, "t", "--colour", "blue", NULL);
	bad("unexpected argument 'two'", &t_cmd, "t", "one", "two", NULL);
	bad("offca g a: --must is required", &sub_a, "a", NULL);
	bad("missing ID", &sub_b, "b", NULL);
}

/* A group: its subcommand by name, options before it, help, and the group's own errors. */
static void test_group(void **state)
{
	char *ok1[] = {"g", "b", "7", NULL}, *ok2[] = {"g", "--home", "h", "--quiet", "b", "7", NULL};
	char *none[] = {"g", NULL}, *unk[] = {"g", "zz", NULL};
	int saved = dup(2), fd = open("/dev/null", O_WRONLY);

	(void)state;
	ran = 0;
	assert_int_equal(cli_run(&g_cmd, 3, ok1), 0);
	assert_int_equal(ran, 1);
	assert_int_equal(cli_run(&g_cmd, 6, ok2), 0); /* options before the subcommand */
	assert_int_equal(ran, 2);
	dup2(fd, 2);
	assert_int_equal(cli_run(&g_cmd, 1, none), 2);
	assert_int_equal(cli_run(&g_cmd, 2, unk), 2);
	dup2(saved, 2);
	close(saved);
	close(fd);
	assert_int_equal(ran, 2);
}

/* --help and docs/cli.md come from the descriptors: every option, its value name and the enum. */
static void test_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	cli_help_print(f, &t_cmd);
	fclose(f);
	assert_non_null(strstr(buf, "usage: offca t [ARG] [--flag] [--name NAME]"));
	assert_non_null(strstr(buf, "[--colour red|green]"));
	assert_non_null(strstr(buf, "[--csr FILE...]"));
	for (size_t i = 0; t_opts[i].name != NULL; i++) {
		char want[64];

		snprintf(want, sizeof(want), "  --%s", t_opts[i].name);
		assert_non_null(strstr(buf, want));
	}
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	cli_help_markdown(f, &g_cmd);
	fclose(f);
	assert_non_null(strstr(buf, "## offca g\n"));
	assert_non_null(strstr(buf, "### offca g a\n"));
	assert_non_null(strstr(buf, "| `--must` | `X` | required (required) |"));
	assert_non_null(strstr(buf, "usage: offca g b ID [--home DIR] [--quiet]"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
