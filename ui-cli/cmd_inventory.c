/* cmd_inventory.c - PLACEHOLDER until its owner lands it: every command here fails with "not implemented". */
#include "cli.h"

int cli_cmd_init(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca init: not implemented yet"));
}

int cli_cmd_list(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca list: not implemented yet"));
}

int cli_cmd_show(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca show: not implemented yet"));
}

int cli_cmd_revoke(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca revoke: not implemented yet"));
}

int cli_cmd_export(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca export: not implemented yet"));
}

int cli_cmd_audit(int argc, char **argv)
{
	return cli_fail(ut_err(OFFCA_E_UNSUPPORTED, "offca audit: not implemented yet"));
}
