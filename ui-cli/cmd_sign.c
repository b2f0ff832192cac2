/* cmd_sign.c - PLACEHOLDER until its owner lands it: every command here fails with "not implemented". */
#include "cli.h"

int cli_cmd_sign(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca sign: not implemented yet"));
}

int cli_cmd_issue(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca issue: not implemented yet"));
}
