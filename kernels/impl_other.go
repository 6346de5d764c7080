//go:build !amd64 || noasm

package kernels

// archImpls returns no assembly implementations: this build uses the
// pure-Go one.
func archImpls() []*impl { return nil }
