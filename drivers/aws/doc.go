// Package aws is amigo's driver for a real AWS account: it implements the
// reconciler's cloud interfaces (Images, Fleets, Traffic, Metrics, Clock)
// with aws-sdk-go-v2 against Elastic Load Balancing v2, EC2 Auto Scaling,
// EC2, EC2 Image Builder and CloudWatch.
//
// It owns: the mapping between amigo's types and the services' shapes, the
// tags amigo puts on Auto Scaling groups and listener rules, the read-back
// after every write, and the API budget (one token bucket per API family,
// shared by every driver of the process through a Budget, adaptive retries
// on throttling, and a count of every call).
//
// It must not decide anything: when to move traffic, scale or delete is the
// reconciler's. It must not touch a listener field or rule amigo does not
// own, keep state that cannot be rebuilt from the cloud, or override the
// SDK's endpoint resolution (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// keep working) unless Options.Endpoints says so.
//
// The exact IAM actions it calls are listed in examples/iam-policy.json; a
// test fails when the code calls an action the policy does not list.
package aws
