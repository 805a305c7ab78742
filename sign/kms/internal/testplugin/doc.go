// Command testplugin is a sigstore KMS plugin program for the tests of package kms. Built as
// sigstore-kms-<name> and put on PATH, it serves URIs <name>://<path>, where <path> is a file
// holding a PEM ECDSA private key. It speaks sigstore's plugin protocol through sigstore's own
// handler package, so the tests exercise a real plugin process end to end. A key version other
// than "" or "1" (signature option WithKeyVersion) selects the file <path>.v<version>.
package main
