/*
 * export_cli.h - offca export's delivery forms (cmd_export_pkg.c: certbot layout, ZIP, PKCS#12,
 * Kubernetes Secret/ConfigMap, SOPS/age; cmd_export_git.c: writing into a Git work tree).
 * Internal to ui-cli. docs/distribution.md.
 */
#ifndef OFFCA_CLI_EXPORT_H
#define OFFCA_CLI_EXPORT_H

#include "offca/export.h"


#include "cli_opt.h"

/* Does the command line ask for one of the delivery forms (so cmd_export.c hands over)? */
int cli_export_pkg_wanted(const cli_args *a);
/* offca export with a delivery form. Returns the exit code. */
int cli_cmd_export_pkg(const cli_args *a);

/*
 * offca issue --generate-key --layout certbot --out-dir DIR: the freshly recorded certificate
 * serial with key as DIR/<name>/ including privkey.pem (0600); prints the line and the warnings.
 */
offca_rc cli_export_issued_layout(ca_store *st, const ca_serial *serial, EVP_PKEY *key, const char *out_dir);

/* Check a SOPS Secret's name, namespace and age recipients before anything is made. */
offca_rc cli_export_sops_check(const char *name, const char *ns, const char *const *age, size_t n_age);
/*
 * offca issue --generate-key --k8s-secret NAME --sops --age R... --out FILE: the freshly recorded
 * certificate serial with key as a SOPS Secret (tls.key included) written to out (never replaced).
 */
offca_rc cli_export_issued_sops(ca_store *st, const ca_serial *serial, EVP_PKEY *key, const char *name, const char *ns,
				const char *const *age, size_t n_age, const char *out);

/*
 * Write data to repo/path inside a Git work tree (git CLI): refuses a path with uncommitted
 * changes (modified, staged or untracked), replaces a committed file (Git keeps the old one),
 * and with commit non-zero commits that path alone with message msg.
 * Errors: OFFCA_E_USAGE (bad path), OFFCA_E_STATE (not a work tree, changes at path), OFFCA_E_IO.
 */
offca_rc cli_git_write(const char *repo, const char *path, const char *data, size_t len, int commit, const char *msg);

#endif
