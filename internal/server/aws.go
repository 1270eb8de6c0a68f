package server

import "os"

// disableInstanceMetadata keeps the AWS SDK away from the EC2 instance
// metadata service (169.254.169.254) unless the operator enabled it with
// Config.AWSInstanceMetadata: without it, an S3, SageMaker or Comprehend
// statement with no configured credentials would make the SDK's default
// chain call a link-local service nobody configured. Every AWS
// configuration SibylDB loads (objstore, remote, comprehend) uses the
// SDK's default loader, which reads AWS_EC2_METADATA_DISABLED.
func disableInstanceMetadata(enabled bool) error {
	if enabled {
		return nil
	}
	return os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
