// x509verify.go - Go's crypto/x509 verifies a leaf certificate against a root and one
// intermediate for a DNS name (tests/e2e/policy_names.sh, Ed25519 leaves). Standard library only.
// Usage: go run x509verify.go ROOT.pem INTERMEDIATE.pem LEAF.pem DNSNAME
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func load(path string) *x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		fmt.Fprintln(os.Stderr, path+": no PEM block")
		os.Exit(2)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		fmt.Fprintln(os.Stderr, path+": "+err.Error())
		os.Exit(2)
	}
	return c
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: x509verify ROOT INT LEAF DNSNAME")
		os.Exit(2)
	}
	roots, ints := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(load(os.Args[1]))
	ints.AddCert(load(os.Args[2]))
	leaf := load(os.Args[3])
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: ints, DNSName: os.Args[4],
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify: "+err.Error())
		os.Exit(1)
	}
	fmt.Printf("ok: %s (%v)\n", leaf.Subject, leaf.PublicKeyAlgorithm)
}
