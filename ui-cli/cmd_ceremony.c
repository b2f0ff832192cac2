/* cmd_ceremony.c - PLACEHOLDER until its owner lands it: every command here fails with "not implemented". */
#include "cli.h"

int cli_cmd_ceremony(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca ceremony: not implemented yet"));
}
