/*
 * raw_sign.c - the raw PKCS#11 signature rate of one token key: C_SignInit + C_Sign in a loop on
 * a SHA-256-sized input (CKM_ECDSA for EC keys, CKM_SHA256_RSA_PKCS for RSA), one session, one
 * thread. The ceiling offca's signing pipeline is compared against (bench/sign_bench.sh).
 *
 *   bench_raw_sign MODULE TOKEN_LABEL KEY_LABEL PIN_FILE [SECONDS]
 *
 * Prints "raw_sign: N signatures in W s wall, C s CPU: X/s wall, Y/s per CPU second".
 * Not a test.
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h> /* p11-kit-1 (pkg-config), see bench/CMakeLists.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offca/util.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, CK_RV rv)
{
	fprintf(stderr, "bench_raw_sign: %s failed (CKR 0x%lx)\n", what, (unsigned long)rv);
	exit(1);
}

static CK_SLOT_ID find_slot(CK_FUNCTION_LIST_PTR f, const char *label)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_TOKEN_INFO ti;
	char lab[33];
	CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);

	if (rv != CKR_OK)
		die("C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < n; i++) {
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(lab, ti.label, 32);
		lab[32] = '\0';
		for (int k = 31; k >= 0 && lab[k] == ' '; k--)
			lab[k] = '\0';
		if (strcmp(lab, label) == 0)
			return slots[i];
	}
	fprintf(stderr, "bench_raw_sign: no token labelled %s\n", label);
	exit(1);
}

int main(int argc, char **argv)
{
	CK_C_GetFunctionList getf;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_ULONG nf = 0, siglen, kt = 0;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[2], kta = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	unsigned char hash[32], sig[1024];
	char pin[UT_MAX_SECRET];
	double secs = argc > 5 ? atof(argv[5]) : 3.0, w0, c0, w1, c1;
	unsigned long count = 0;
	void *lib;
	CK_RV rv;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_raw_sign MODULE TOKEN_LABEL KEY_LABEL PIN_FILE [SECONDS]\n");
		return 2;
	}
	if (ut_secret_from_file(argv[4], 1, pin, sizeof(pin)) != OFFCA_OK) {
		fprintf(stderr, "bench_raw_sign: %s\n", ut_err_msg());
		return 1;
	}
	lib = dlopen(argv[1], RTLD_NOW);
	if (lib == NULL) {
		fprintf(stderr, "bench_raw_sign: %s\n", dlerror());
		return 1;
	}
	getf = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
	if (getf == NULL || (rv = getf(&f)) != CKR_OK)
		die("C_GetFunctionList", 0);
	if ((rv = f->C_Initialize(NULL)) != CKR_OK)
		die("C_Initialize", rv);
	if ((rv = f->C_OpenSession(find_slot(f, argv[2]), CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
		die("C_OpenSession", rv);
	if ((rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin))) != CKR_OK)
		die("C_Login", rv);
	ut_memzero(pin, sizeof(pin));
	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_LABEL, argv[3], strlen(argv[3])};
	if ((rv = f->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK || (rv = f->C_FindObjects(s, &key, 1, &nf)) != CKR_OK ||
	    nf != 1)
		die("finding the private key", rv);
	f->C_FindObjectsFinal(s);
	if ((rv = f->C_GetAttributeValue(s, key, &kta, 1)) != CKR_OK)
		die("C_GetAttributeValue", rv);
	if (kt == CKK_RSA)
		mech.mechanism = CKM_SHA256_RSA_PKCS;
	memset(hash, 0x5a, sizeof(hash));
	w0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	do {
		for (int i = 0; i < 100; i++) {
			hash[i % 32]++;
			siglen = sizeof(sig);
			if ((rv = f->C_SignInit(s, &mech, key)) != CKR_OK)
				die("C_SignInit", rv);
			if ((rv = f->C_Sign(s, hash, sizeof(hash), sig, &siglen)) != CKR_OK)
				die("C_Sign", rv);
			count++;
		}
		w1 = clock_s(CLOCK_MONOTONIC);
	} while (w1 - w0 < secs);
	c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	printf("raw_sign: %lu signatures in %.2f s wall, %.2f s CPU: %.0f/s wall, %.0f/s per CPU second\n", count,
	       w1 - w0, c1 - c0, (double)count / (w1 - w0), (double)count / (c1 - c0));
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return 0;
}
