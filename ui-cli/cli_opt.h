/*
 * cli_opt.h - commands as data (curl's option table, git's parse-options): each command is a
 * cli_cmd descriptor holding its name, summary, typed options and handler. One parser reads argv
 * against it; --help, `offca help CMD` and docs/cli.md (`offca help --markdown`) are generated
 * from the same descriptor, so they cannot drift from what the parser accepts.
 *
 * Declaring a command (see cmd_inventory.c):
 *
 *   static const cli_opt list_opts[] = {
 *           CLI_O("expiring", CLI_DAYS, "DAYS", "only certificates expiring within DAYS days", .lo = 0, .hi = 36500),
 *           CLI_O("san", CLI_STR, "NAME", "only certificates holding SAN NAME"),
 *           CLI_OPT_JSON,
 *           CLI_OPT_HOME,
 *           CLI_END};
 *   static int run_list(const cli_cmd *cmd, cli_args *a) { ... cli_str(a, "home") ... }
 *   const cli_cmd cli_list_cmd = {.name = "list", .summary = "list issued certificates",
 *                                 .opts = list_opts, .run = run_list};
 *
 * and add {"list", &cli_list_cmd, NULL, NULL} to cli_commands[] in main.c (declare the descriptor
 * in cli.h), then run scripts/gen-cli-doc.sh: tests/e2e/cli_doc.sh fails while docs/cli.md differs
 * from `offca help --markdown`. A group (`offca ca root|list|...`) is a cli_cmd with .subs (its
 * subcommands' descriptors, whose .name is "group sub", NULL-terminated); a group with .run as well
 * (`offca crl` and `offca crl status`) runs itself when argv[1] is not one of its subcommands.
 * Options may come before a group's subcommand (`offca audit --home DIR verify`). A handler opens
 * the CA home, store, config, signer and key through cli_session.h.
 *
 * Parsing rules (one set for every command): options anywhere among the operands; "--name VALUE"
 * or "--name=VALUE"; "--" ends the options; -h/--help anywhere prints the help and exits 0. Any
 * error prints one line "offca CMD: <what> (see 'offca CMD --help')" and gives exit code 2
 * (OFFCA_E_USAGE, docs/exit-codes.md): an unknown option (or "option '--x' does not apply to
 * CMD" when another command declares it), a missing value, a value out of range or not among an
 * enum's values, a serial that is not hex, an empty path, a required option missing, too many or
 * too few operands. Operands are not typed: the handler checks them (a->pos[0..npos-1]). A value given twice: the last one wins (CLI_LIST: all are kept in order).
 *
 * Values are read back by option name (cli_flag, cli_str, cli_num, cli_list); asking for a name
 * the command does not declare is a programming error and aborts with a message.
 */
#ifndef OFFCA_CLI_OPT_H
#define OFFCA_CLI_OPT_H

#include <stddef.h>
#include <stdio.h>

typedef enum cli_opt_type {
	CLI_FLAG,   /* no value: given or not (cli_flag) */
	CLI_STR,    /* text: a name, URI, DN (cli_str) */
	CLI_PATH,   /* a file or directory path, not empty (cli_str) */
	CLI_SECRET, /* a file holding a secret (PIN, passphrase): the path, never the secret (cli_str) */
	CLI_NUM,    /* a decimal integer in lo..hi (cli_num) */
	CLI_DAYS,   /* a number of days in lo..hi (cli_num) */
	CLI_SERIAL, /* a hex certificate serial, colons allowed (cli_str) */
	CLI_ENUM,   /* one of values[] (cli_str) */
	CLI_LIST,   /* repeatable text, kept in order (cli_list) */
} cli_opt_type;

/* cli_opt.flags */
#define CLI_REQUIRED 0x1u /* must be given (shown without brackets in the usage line) */
#define CLI_WORDS    0x2u /* CLI_LIST: free words after it are more values ("--csr a.csr b.csr") */
#define CLI_COMMA    0x4u /* CLI_LIST: "a,b" is two values */

typedef struct cli_opt {
	const char *name;          /* long name without "--"; NULL ends the table */
	cli_opt_type type;
	const char *arg;           /* the value's name in help ("DIR", "DAYS"); NULL: from the type */
	const char *help;          /* one line for --help and docs/cli.md */
	unsigned flags;            /* CLI_REQUIRED, CLI_WORDS, CLI_COMMA */
	long lo, hi;               /* CLI_NUM, CLI_DAYS: accepted range */
	const char *const *values; /* CLI_ENUM: accepted values, NULL-terminated */
} cli_opt;

/* One table entry: CLI_O("days", CLI_DAYS, "N", "validity", .lo = 1, .hi = 397); CLI_END ends a table. */
#define CLI_O(name_, type_, arg_, help_, ...) {.name = (name_), .type = (type_), .arg = (arg_), .help = (help_), __VA_ARGS__}
#define CLI_END {.name = NULL}

/* Options most commands share, spelled once. */
#define CLI_OPT_HOME CLI_O("home", CLI_PATH, "DIR", "the CA home (default: $OFFCA_HOME)")
#define CLI_OPT_JSON CLI_O("json", CLI_FLAG, NULL, "print one JSON document instead (docs/json.md)")
#define CLI_OPT_PIN_FILE CLI_O("pin-file", CLI_SECRET, "F", "the token PIN from the first line of F")
#define CLI_OPT_MODULE CLI_O("module", CLI_PATH, "PATH", "the PKCS#11 module (default: SoftHSM2 or OpenSC)")

typedef struct cli_cmd cli_cmd;
typedef struct cli_args cli_args;

/* A command's handler: a is parsed and valid. Returns the process exit code (cli_fail()...). */
typedef int (*cli_run_fn)(const cli_cmd *cmd, cli_args *a);

struct cli_cmd {
	const char *name;           /* full name: "list", "ca show" */
	const char *summary;        /* one line, for `offca help` and the group's help */
	const char *operands;       /* in the usage line after the name: "SERIAL|FINGERPRINT|SAN" */
	int min_pos, max_pos;       /* operands accepted; max_pos -1: any number */
	const cli_opt *opts;        /* NULL-name terminated; NULL: none */
	const char *usage;          /* NULL: the usage line is generated; else its lines (alternative
				       forms), each starting "offca ", separated by '\n' */
	const char *details;        /* paragraphs printed after the options (NULL: none) */
	cli_run_fn run;             /* NULL for a pure group */
	const cli_cmd *const *subs; /* a group's subcommands, NULL-terminated; NULL: not a group */
};

#define CLI_MAX_OPTS 48 /* options a command may declare */

/* A parsed command line. Owned by the caller; cli_args_free() releases what cli_parse allocated. */
struct cli_args {
	const cli_cmd *cmd;
	const char *val[CLI_MAX_OPTS]; /* last value given (CLI_FLAG: "1"); NULL: not given */
	long num[CLI_MAX_OPTS];        /* CLI_NUM, CLI_DAYS */
	const char **list[CLI_MAX_OPTS];
	size_t n_list[CLI_MAX_OPTS];
	char *copies[CLI_MAX_OPTS]; /* CLI_COMMA values split in place */
	size_t n_copies;
	const char **pos; /* operands, in order */
	int npos;
};

/*
 * The top-level commands (main.c), ended by an entry whose name is NULL. desc: the command's
 * descriptor; fn: a command not converted to a descriptor yet (argv-level handler).
 */
typedef struct cli_entry {
	const char *name;
	const cli_cmd *desc;
	int (*fn)(int argc, char **argv);
	const char *summary; /* only for fn entries (desc has its own) */
} cli_entry;
extern const cli_entry cli_commands[];

/*
 * Parse argv (argv[0]: the command's last word, as main() passes it) against cmd into *a
 * (cleared first). Returns 0, or 2 after printing one usage error line. *a must be freed with
 * cli_args_free() either way.
 */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a);
void cli_args_free(cli_args *a);

/*
 * The whole life of a command: -h/--help -> help on stdout, 0; a group -> its subcommand (or its
 * own .run); else cli_parse() then cmd->run(). Returns the exit code. main() calls this.
 */
int cli_run(const cli_cmd *cmd, int argc, char **argv);

/* Was option name given? Its value (NULL: not given), its number (dflt: not given), its list. */
int cli_flag(const cli_args *a, const char *name);
const char *cli_str(const cli_args *a, const char *name);
long cli_num(const cli_args *a, const char *name, long dflt);
const char *const *cli_list(const cli_args *a, const char *name, size_t *n);
/* The value of option name if the command declares it and it was given, else NULL (for code
   shared by commands that declare different options). */
const char *cli_opt_if(const cli_args *a, const char *name);

/* Print the usage lines / the whole help of cmd (a group: every subcommand's usage lines). */
void cli_help_print(FILE *f, const cli_cmd *cmd);
/* One Markdown section per command and subcommand with an options table (docs/cli.md). */
void cli_help_markdown(FILE *f, const cli_cmd *cmd);

#endif
