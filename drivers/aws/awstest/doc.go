// Package awstest runs in-process test servers that speak the wire
// protocols of the AWS services amigo's AWS driver calls: Elastic Load
// Balancing v2 and Auto Scaling (awsQuery), EC2 (ec2query), Image Builder
// (restJson1) and CloudWatch (Smithy RPC v2 CBOR).
//
// The servers share one in-memory account, so a write through one service
// is seen by the next read through any other (an Auto Scaling group
// registers its instances in its target groups). Time is a controllable
// clock: instances launch, come into service and turn healthy, targets
// drain and instance refreshes progress as the clock advances.
//
// It implements only the operations and fields the driver uses. It must not
// be used outside tests, must bind loopback only, and must not try to be a
// general AWS emulator: an operation it does not know answers an error so
// that a new call in the driver is noticed.
package awstest
