// Package jaegertest runs a real Jaeger (v2, all in one, in-memory
// storage) for tests: it starts the binary on free loopback ports, gives
// its OTLP endpoints to the code under test and reads traces back through
// the query API.
//
// The binary comes from JAEGER_BIN or the cache .ci/tool-jaeger fills;
// without one the test is skipped, unless AMIGO_E2E=1 asks for a failure.
// The package must not build or download Jaeger, and must not leave the
// process running after the test.
package jaegertest
