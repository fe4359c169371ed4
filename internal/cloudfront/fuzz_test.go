package cloudfront

import "testing"

// FuzzParseDistribution feeds arbitrary JSON to the import: it must not
// panic, and a distribution it accepts converts to YAML whose behaviors
// end with the default "*".
func FuzzParseDistribution(f *testing.F) {
	f.Add(`{"DistributionConfig":{"Origins":{"Quantity":1,"Items":[{"Id":"o","DomainName":"example.com","CustomOriginConfig":{"OriginProtocolPolicy":"http-only","HTTPPort":8080}}]},"DefaultCacheBehavior":{"TargetOriginId":"o","CachePolicyId":"658327ea-f89d-4fab-a63d-7e88639e58f6"},"CacheBehaviors":{"Quantity":1,"Items":[{"PathPattern":"api/*","TargetOriginId":"x","ForwardedValues":{"QueryString":true,"Headers":{"Quantity":1,"Items":["*"]}},"MinTTL":5,"MaxTTL":1}]}}}`)
	f.Add(`{"Distribution":{"DistributionConfig":{"Origins":{"Items":[{"Id":"..."}]},"DefaultCacheBehavior":{"LambdaFunctionAssociations":{"Items":[{"EventType":"viewer-request"}]}}}}}`)
	f.Add(`{"DefaultCacheBehavior":{},"Origins":{"Items":[{"Id":"a"},{"Id":"a!"}]},"CustomErrorResponses":{"Items":[{"ErrorCode":404,"ErrorCachingMinTTL":-5}]}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDistribution([]byte(in))
		if err != nil {
			return
		}
		res, err := Convert(d, Policies{}, "127.0.0.1:8080")
		if err != nil {
			return
		}
		if n := len(res.Behaviors); n == 0 || res.Behaviors[n-1] != "*" {
			t.Fatalf("Convert(%s) behaviors = %v, want the default \"*\" last", in, res.Behaviors)
		}
	})
}
