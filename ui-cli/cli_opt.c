/* cli_opt.c - the one command-line parser: argv read against a command's descriptor (cli_opt.h). */
#include "cli_opt.h"
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_MAX_HEX 40 /* 20 octets (RFC 5280) */

static size_t n_opts(const cli_cmd *cmd)
{
	size_t n = 0;

	while (cmd->opts != NULL && cmd->opts[n].name != NULL)
		n++;
	if (n > CLI_MAX_OPTS) {
		fprintf(stderr, "offca: internal: '%s' declares more than %d options\n", cmd->name, CLI_MAX_OPTS);
		abort();
	}
	return n;
}

/* Index of option name (len chars) in cmd, or -1. */
static int find_opt(const cli_cmd *cmd, const char *name, size_t len)
{
	size_t n = n_opts(cmd);

	for (size_t i = 0; i < n; i++)
		if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* The index of an option a handler asks for: a name it did not declare is a bug. */
static int must_find(const cli_args *a, const char *name)
{
	int i = find_opt(a->cmd, name, strlen(name));

	if (i < 0) {
		fprintf(stderr, "offca: internal: '%s' has no option --%s\n", a->cmd->name, name);
		abort();
	}
	return i;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

static int is_serial(const char *s)
{
	size_t hex = 0;

	for (; *s != '\0'; s++) {
		if (isxdigit((unsigned char)*s))
			hex++;
		else if (*s != ':')
			return 0;
	}
	return hex > 0 && hex <= SERIAL_MAX_HEX;
}

static int push(const cli_cmd *cmd, cli_args *a, int i, const char *v)
{
	const char **nl;

	if (a->n_list[i] >= 4096)
		return cli_usage_error(cmd->name, "--%s given too many times", cmd->opts[i].name);
	nl = realloc(a->list[i], (a->n_list[i] + 1) * sizeof(*nl));
	if (nl == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	a->list[i] = nl;
	nl[a->n_list[i]++] = v;
	return 0;
}

/* A CLI_LIST value: one, or (CLI_COMMA) several split at commas in a copy. */
static int push_list(const cli_cmd *cmd, cli_args *a, int i, const char *v)
{
	char *copy, *save = NULL;
	int r = 0;

	if (!(cmd->opts[i].flags & CLI_COMMA) || strchr(v, ',') == NULL)
		return push(cmd, a, i, v);
	if (a->n_copies >= CLI_MAX_OPTS)
		return cli_usage_error(cmd->name, "too many comma-separated lists");
	copy = strdup(v);
	if (copy == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	a->copies[a->n_copies++] = copy;
	for (char *t = strtok_r(copy, ",", &save); r == 0 && t != NULL; t = strtok_r(NULL, ",", &save))
		r = push(cmd, a, i, t);
	return r;
}

/* Check and store the value v of option i. */
static int set_value(const cli_cmd *cmd, cli_args *a, int i, const char *v)
{
	const cli_opt *o = &cmd->opts[i];

	switch (o->type) {
	case CLI_PATH:
	case CLI_SECRET:
		if (v[0] == '\0')
			return cli_usage_error(cmd->name, "--%s needs a path, not an empty value", o->name);
		break;
	case CLI_NUM:
	case CLI_DAYS:
		if (!parse_long(v, o->lo, o->hi, &a->num[i]))
			return cli_usage_error(cmd->name, "--%s takes a number%s %ld..%ld, not '%s'", o->name,
					       o->type == CLI_DAYS ? " of days" : "", o->lo, o->hi, v);
		break;
	case CLI_SERIAL:
		if (!is_serial(v))
			return cli_usage_error(cmd->name, "--%s takes a hex serial (up to %d digits, colons allowed), not '%s'",
					       o->name, SERIAL_MAX_HEX, v);
		break;
	case CLI_ENUM: {
		size_t k = 0;

		while (o->values[k] != NULL && strcmp(o->values[k], v) != 0)
			k++;
		if (o->values[k] == NULL) {
			char all[256] = "";

			for (k = 0; o->values[k] != NULL; k++)
				snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", k ? ", " : "", o->values[k]);
			return cli_usage_error(cmd->name, "--%s takes one of %s, not '%s'", o->name, all, v);
		}
		break;
	}
	case CLI_LIST:
		a->val[i] = v;
		return push_list(cmd, a, i, v);
	default: break;
	}
	a->val[i] = v;
	return 0;
}

/* Does any command (or subcommand) declare option name (len chars)? */
static int known_in(const cli_cmd *cmd, const char *name, size_t len)
{
	if (find_opt(cmd, name, len) >= 0)
		return 1;
	for (size_t i = 0; cmd->subs != NULL && cmd->subs[i] != NULL; i++)
		if (known_in(cmd->subs[i], name, len))
			return 1;
	return 0;
}

static int known_anywhere(const char *name, size_t len)
{
	for (size_t i = 0; cli_commands[i].name != NULL; i++)
		if (cli_commands[i].desc != NULL && known_in(cli_commands[i].desc, name, len))
			return 1;
	return 0;
}

/* One "--name[=value]" at argv[*k]; *words: the list option free words now join. */
static int parse_option(const cli_cmd *cmd, cli_args *a, int argc, char **argv, int *k, int *words)
{
	const char *arg = argv[*k], *name = arg + 2, *eq = strchr(name, '=');
	int i = find_opt(cmd, name, eq ? (size_t)(eq - name) : strlen(name));

	if (i < 0 && known_anywhere(name, eq ? (size_t)(eq - name) : strlen(name)))
		return cli_usage_error(cmd->name, "option '%.*s' does not apply to %s", eq ? (int)(eq - arg) : (int)strlen(arg),
				       arg, cmd->name);
	if (i < 0)
		return cli_usage_error(cmd->name, "unknown option '%.*s'", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
	if (cmd->opts[i].type == CLI_FLAG) {
		if (eq != NULL)
			return cli_usage_error(cmd->name, "option '--%s' takes no value", cmd->opts[i].name);
		a->val[i] = "1";
		return 0;
	}
	if (eq == NULL && *k + 1 >= argc)
		return cli_usage_error(cmd->name, "option '--%s' needs a value", cmd->opts[i].name);
	if (cmd->opts[i].flags & CLI_WORDS)
		*words = i;
	return set_value(cmd, a, i, eq ? eq + 1 : argv[++*k]);
}

static int check_complete(const cli_cmd *cmd, const cli_args *a)
{
	size_t n = n_opts(cmd);

	for (size_t i = 0; i < n; i++)
		if ((cmd->opts[i].flags & CLI_REQUIRED) && a->val[i] == NULL)
			return cli_usage_error(cmd->name, "--%s is required", cmd->opts[i].name);
	if (a->npos < cmd->min_pos)
		return cli_usage_error(cmd->name, "missing %s", cmd->operands ? cmd->operands : "operand");
	return 0;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
{
	int ended = 0, words = -1, r = 0;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	(void)n_opts(cmd);
	a->pos = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a->pos));
	if (a->pos == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	for (int k = 1; r == 0 && k < argc; k++) {
		const char *w = argv[k];

		if (!ended && strcmp(w, "--") == 0)
			ended = 1;
		else if (!ended && w[0] == '-' && w[1] == '-')
			r = parse_option(cmd, a, argc, argv, &k, &words);
		else if (!ended && w[0] == '-' && w[1] != '\0')
			r = cli_usage_error(cmd->name, "unknown option '%s'", w);
		else if (words >= 0)
			r = set_value(cmd, a, words, w);
		else if (cmd->max_pos >= 0 && a->npos >= cmd->max_pos)
			r = cli_usage_error(cmd->name, "unexpected argument '%s'", w);
		else
			a->pos[a->npos++] = w;
	}
	return r != 0 ? r : check_complete(cmd, a);
}

void cli_args_free(cli_args *a)
{
	for (int i = 0; i < CLI_MAX_OPTS; i++)
		free(a->list[i]);
	for (size_t i = 0; i < a->n_copies; i++)
		free(a->copies[i]);
	free(a->pos);
	memset(a, 0, sizeof(*a));
}

int cli_flag(const cli_args *a, const char *name)
{
	return a->val[must_find(a, name)] != NULL;
}

const char *cli_str(const cli_args *a, const char *name)
{
	return a->val[must_find(a, name)];
}

long cli_num(const cli_args *a, const char *name, long dflt)
{
	int i = must_find(a, name);

	return a->val[i] != NULL ? a->num[i] : dflt;
}

const char *const *cli_list(const cli_args *a, const char *name, size_t *n)
{
	int i = must_find(a, name);

	*n = a->n_list[i];
	return a->list[i];
}

const char *cli_opt_if(const cli_args *a, const char *name)
{
	for (size_t i = 0; a->cmd->opts != NULL && a->cmd->opts[i].name != NULL; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return a->val[i];
	return NULL;
}

static int wants_help(int argc, char **argv)
{
	return cli_wants_help(argc, argv);
}

static const cli_cmd *find_sub(const cli_cmd *g, const char *word)
{
	const char *last;

	for (size_t i = 0; g->subs[i] != NULL; i++) {
		last = strrchr(g->subs[i]->name, ' ');
		if (strcmp(last ? last + 1 : g->subs[i]->name, word) == 0)
			return g->subs[i];
	}
	return NULL;
}

/* Is --name (no '=') a flag of one of g's subcommands (so the next word is not its value)? */
static int sub_flag(const cli_cmd *g, const char *word)
{
	for (size_t i = 0; g->subs[i] != NULL; i++) {
		int k = find_opt(g->subs[i], word + 2, strlen(word + 2));

		if (k >= 0 && g->subs[i]->opts[k].type == CLI_FLAG)
			return 1;
	}
	return 0;
}

/* Options before the subcommand ("offca audit --home DIR verify"): the subcommand's word index. */
static int sub_index(const cli_cmd *g, int argc, char **argv)
{
	for (int k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--") == 0 || argv[k][0] != '-')
			return k < argc && argv[k][0] != '-' && find_sub(g, argv[k]) != NULL ? k : -1;
		if (strncmp(argv[k], "--", 2) == 0 && strchr(argv[k], '=') == NULL && !sub_flag(g, argv[k]))
			k++;
	}
	return -1;
}

/* Run sub with its word moved to the front of the arguments. */
static int run_moved(const cli_cmd *sub, int argc, char **argv, int at)
{
	char **v = calloc((size_t)argc, sizeof(*v));
	int n = 0, r;

	if (v == NULL)
		return cli_fail(ut_err(OFFCA_E_NOMEM, "out of memory"));
	v[n++] = argv[at];
	for (int k = 1; k < argc; k++)
		if (k != at)
			v[n++] = argv[k];
	r = cli_run(sub, n, v);
	free(v);
	return r;
}

static int run_group(const cli_cmd *g, int argc, char **argv)
{
	const cli_cmd *sub = argc >= 2 ? find_sub(g, argv[1]) : NULL;
	char names[256] = "";
	int at;

	if (sub != NULL)
		return cli_run(sub, argc - 1, argv + 1);
	if (argc >= 2 && argv[1][0] == '-' && (at = sub_index(g, argc, argv)) > 0)
		return run_moved(find_sub(g, argv[at]), argc, argv, at);
	if (argc >= 2 && wants_help(argc, argv)) {
		cli_help_print(stdout, g);
		return 0;
	}
	if (g->run != NULL && (argc < 2 || argv[1][0] == '-'))
		return -1; /* the group's own command */
	for (size_t i = 0; g->subs[i] != NULL; i++) {
		const char *last = strrchr(g->subs[i]->name, ' ');

		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
			 last ? last + 1 : g->subs[i]->name);
	}
	if (argc < 2)
		return cli_usage_error(g->name, "missing subcommand: %s", names);
	return cli_usage_error(g->name, "unknown subcommand '%s' (%s)", argv[1], names);
}

int cli_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_args a;
	int r;

	if (cmd->subs != NULL) {
		r = run_group(cmd, argc, argv);
		if (r >= 0)
			return r;
	}
	if (wants_help(argc, argv)) {
		cli_help_print(stdout, cmd);
		return 0;
	}
	r = cli_parse(cmd, argc, argv, &a);
	if (r == 0)
		r = cmd->run(cmd, &a);
	cli_args_free(&a);
	return r;
}
