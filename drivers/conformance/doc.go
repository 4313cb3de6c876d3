package conformance

// What the suite owns and must not do (the package comment is in
// harness.go):
//
// Run drives a cloud only through the reconciler's interfaces and the
// Harness, and asserts only behaviour every driver can have: formats (an
// "ami-" prefix, "i-" instance ids) rather than exact ids, shares of
// instances rather than which instance was replaced, health after time has
// passed rather than exact timing. It must not import a driver, read a
// wall clock or depend on the order of subtests: each subtest gets a new
// harness.
