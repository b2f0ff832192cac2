/* cmd_bundle.c - PLACEHOLDER until its owner lands it: every command here fails with "not implemented". */
#include "cli.h"

int cli_cmd_bundle(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca bundle: not implemented yet"));
}

int cli_cmd_pending(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca pending: not implemented yet"));
}
