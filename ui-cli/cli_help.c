/* cli_help.c - --help, `offca help CMD` and docs/cli.md, generated from the command descriptors. */
#include "cli_opt.h"

#include <string.h>

#define WRAP 100 /* usage lines wrap before this column */

/* The value's name in help: arg, else the enum's values "a|b|c", else one from the type. */
static void value_name(const cli_opt *o, char *buf, size_t cap)
{
	static const char *const by_type[] = {
		[CLI_STR] = "TEXT", [CLI_PATH] = "PATH", [CLI_SECRET] = "FILE", [CLI_NUM] = "N",
		[CLI_DAYS] = "DAYS", [CLI_SERIAL] = "SERIAL", [CLI_LIST] = "TEXT"};

	buf[0] = '\0';
	if (o->type == CLI_FLAG)
		return;
	if (o->arg != NULL) {
		snprintf(buf, cap, "%s", o->arg);
	} else if (o->type == CLI_ENUM) {
		for (size_t k = 0; o->values[k] != NULL; k++)
			snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", k ? "|" : "", o->values[k]);
	} else {
		snprintf(buf, cap, "%s", by_type[o->type]);
	}
	if (o->type == CLI_LIST && (o->flags & CLI_WORDS))
		snprintf(buf + strlen(buf), cap - strlen(buf), "...");
}

/* "--name VALUE" or "[--name VALUE]". */
static void synopsis_word(const cli_opt *o, char *buf, size_t cap)
{
	char v[160];

	value_name(o, v, sizeof(v));
	snprintf(buf, cap, "%s--%s%s%s%s", (o->flags & CLI_REQUIRED) ? "" : "[", o->name, v[0] ? " " : "", v,
		 (o->flags & CLI_REQUIRED) ? "" : "]");
}

/* One usage form: "offca NAME OPERANDS [--opt V]...", wrapped under the first option. */
static void print_form(FILE *f, const char *lead, const cli_cmd *cmd)
{
	char w[200];
	size_t col, indent;

	col = (size_t)fprintf(f, "%soffca %s", lead, cmd->name);
	indent = col + 1;
	if (cmd->operands != NULL)
		col += (size_t)fprintf(f, " %s", cmd->operands);
	for (size_t i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
		synopsis_word(&cmd->opts[i], w, sizeof(w));
		if (col + 1 + strlen(w) > WRAP) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		col += (size_t)fprintf(f, "%s", w);
	}
	fputc('\n', f);
}

/* The usage lines of cmd (written ones, or generated); lead: "usage: " then indentation. */
static void print_usage(FILE *f, const cli_cmd *cmd, int *first)
{
	const char *p = cmd->usage, *nl;

	if (p == NULL && (cmd->run != NULL || cmd->subs == NULL)) {
		print_form(f, *first ? "usage: " : "       ", cmd);
		*first = 0;
	}
	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		fprintf(f, "%s%.*s\n", *first ? "usage: " : "       ", nl ? (int)(nl - p) : (int)strlen(p), p);
		*first = 0;
		p = nl ? nl + 1 : p + strlen(p);
	}
	for (size_t i = 0; cmd->subs != NULL && cmd->subs[i] != NULL; i++)
		print_usage(f, cmd->subs[i], first);
}

/* text wrapped at WRAP columns, every line after the first indented by indent (col: where it starts). */
static void print_wrapped(FILE *f, const char *text, size_t col, size_t indent)
{
	const char *p = text;

	while (*p != '\0') {
		size_t room = WRAP > col ? WRAP - col : 20, n = strlen(p), cut = n;

		if (n > room) {
			cut = room;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = strcspn(p, " ");
		}
		fprintf(f, "%.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p != '\0')
			fprintf(f, "%*s", (int)indent, "");
		col = indent;
	}
}

static void print_options(FILE *f, const cli_cmd *cmd)
{
	char v[160], w[200];

	if (cmd->opts == NULL || cmd->opts[0].name == NULL)
		return;
	fprintf(f, "\nOptions%s%s:\n", cmd->subs ? " of offca " : "", cmd->subs ? cmd->name : "");
	for (size_t i = 0; cmd->opts[i].name != NULL; i++) {
		value_name(&cmd->opts[i], v, sizeof(v));
		snprintf(w, sizeof(w), "--%s%s%s", cmd->opts[i].name, v[0] ? " " : "", v);
		if (strlen(w) > 22)
			fprintf(f, "  %s\n  %-22s ", w, "");
		else
			fprintf(f, "  %-22s ", w);
		print_wrapped(f, cmd->opts[i].help, 25, 25);
	}
}

void cli_help_print(FILE *f, const cli_cmd *cmd)
{
	int first = 1;

	print_usage(f, cmd, &first);
	fprintf(f, "\n%s.\n", cmd->summary);
	for (size_t i = 0; cmd->subs != NULL && cmd->subs[i] != NULL; i++) {
		const char *last = strrchr(cmd->subs[i]->name, ' ');

		fprintf(f, "%s  %-16s ", i == 0 ? "\n" : "", last ? last + 1 : cmd->subs[i]->name);
		print_wrapped(f, cmd->subs[i]->summary, 19, 19);
	}
	print_options(f, cmd);
	if (cmd->details != NULL)
		fprintf(f, "\n%s", cmd->details);
	if (cmd->subs != NULL)
		fprintf(f, "\nEach subcommand takes --help for its options: offca %s SUBCOMMAND --help\n", cmd->name);
}

static void md_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
}

void cli_help_markdown(FILE *f, const cli_cmd *cmd)
{
	char v[160];
	int first = 1;

	fprintf(f, "%s offca %s\n\n%s.\n\n```\n", cmd->subs ? "##" : (strchr(cmd->name, ' ') ? "###" : "##"), cmd->name,
		cmd->summary);
	if (cmd->subs == NULL || cmd->run != NULL || cmd->usage != NULL) {
		const cli_cmd one = {.name = cmd->name, .operands = cmd->operands, .opts = cmd->opts, .usage = cmd->usage,
				     .run = cmd->run};

		print_usage(f, &one, &first);
	} else {
		for (size_t i = 0; cmd->subs[i] != NULL; i++)
			print_form(f, first++ ? "       " : "usage: ", cmd->subs[i]);
	}
	fprintf(f, "```\n\n");
	if (cmd->opts != NULL && cmd->opts[0].name != NULL) {
		fprintf(f, "| option | value | meaning |\n| --- | --- | --- |\n");
		for (size_t i = 0; cmd->opts[i].name != NULL; i++) {
			value_name(&cmd->opts[i], v, sizeof(v));
			fprintf(f, "| `--%s` | %s", cmd->opts[i].name, v[0] ? "`" : "");
			md_escape(f, v);
			fprintf(f, "%s | ", v[0] ? "`" : "");
			md_escape(f, cmd->opts[i].help);
			fprintf(f, "%s |\n", (cmd->opts[i].flags & CLI_REQUIRED) ? " (required)" : "");
		}
		fputc('\n', f);
	}
	for (size_t i = 0; cmd->subs != NULL && cmd->subs[i] != NULL; i++)
		cli_help_markdown(f, cmd->subs[i]);
}
