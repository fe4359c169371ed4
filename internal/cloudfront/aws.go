package cloudfront

// The shapes of the AWS CLI's JSON output (aws cloudfront
// get-distribution-config, get-cache-policy, get-origin-request-policy,
// get-response-headers-policy), as far as the import reads them. Field
// names are the CloudFront API's; unknown fields are ignored, so newer CLI
// output still reads.

// distributionFile is the output of get-distribution-config, of
// get-distribution, or a bare DistributionConfig.
type distributionFile struct {
	DistributionConfig *Distribution `json:"DistributionConfig"`
	Distribution       *struct {
		DistributionConfig *Distribution `json:"DistributionConfig"`
	} `json:"Distribution"`
}

// Distribution is a CloudFront DistributionConfig.
type Distribution struct {
	CallerReference      string                    `json:"CallerReference"`
	Comment              string                    `json:"Comment"`
	Enabled              *bool                     `json:"Enabled"`
	Aliases              list[string]              `json:"Aliases"`
	DefaultRootObject    string                    `json:"DefaultRootObject"`
	Origins              list[Origin]              `json:"Origins"`
	OriginGroups         list[any]                 `json:"OriginGroups"`
	DefaultCacheBehavior *CacheBehavior            `json:"DefaultCacheBehavior"`
	CacheBehaviors       list[CacheBehavior]       `json:"CacheBehaviors"`
	CustomErrorResponses list[CustomErrorResponse] `json:"CustomErrorResponses"`
	Logging              *struct {
		Enabled bool   `json:"Enabled"`
		Bucket  string `json:"Bucket"`
	} `json:"Logging"`
	PriceClass        string `json:"PriceClass"`
	ViewerCertificate *struct {
		CloudFrontDefaultCertificate bool   `json:"CloudFrontDefaultCertificate"`
		ACMCertificateArn            string `json:"ACMCertificateArn"`
		IAMCertificateID             string `json:"IAMCertificateId"`
	} `json:"ViewerCertificate"`
	Restrictions *struct {
		GeoRestriction struct {
			RestrictionType string `json:"RestrictionType"`
			Quantity        int    `json:"Quantity"`
		} `json:"GeoRestriction"`
	} `json:"Restrictions"`
	WebACLID                     string `json:"WebACLId"`
	HTTPVersion                  string `json:"HttpVersion"`
	ContinuousDeploymentPolicyID string `json:"ContinuousDeploymentPolicyId"`
	Staging                      bool   `json:"Staging"`
}

// list is CloudFront's {"Quantity": n, "Items": [...]}.
type list[T any] struct {
	Quantity int `json:"Quantity"`
	Items    []T `json:"Items"`
}

// Origin is one entry of Origins.
type Origin struct {
	ID            string `json:"Id"`
	DomainName    string `json:"DomainName"`
	OriginPath    string `json:"OriginPath"`
	CustomHeaders list[struct {
		HeaderName  string `json:"HeaderName"`
		HeaderValue string `json:"HeaderValue"`
	}] `json:"CustomHeaders"`
	S3OriginConfig *struct {
		OriginAccessIdentity string `json:"OriginAccessIdentity"`
	} `json:"S3OriginConfig"`
	CustomOriginConfig *struct {
		HTTPPort               int    `json:"HTTPPort"`
		HTTPSPort              int    `json:"HTTPSPort"`
		OriginProtocolPolicy   string `json:"OriginProtocolPolicy"`
		OriginReadTimeout      int    `json:"OriginReadTimeout"`
		OriginKeepaliveTimeout int    `json:"OriginKeepaliveTimeout"`
	} `json:"CustomOriginConfig"`
	ConnectionAttempts    int    `json:"ConnectionAttempts"`
	ConnectionTimeout     int    `json:"ConnectionTimeout"`
	OriginAccessControlID string `json:"OriginAccessControlId"`
	OriginShield          *struct {
		Enabled bool `json:"Enabled"`
	} `json:"OriginShield"`
	VpcOriginConfig *struct {
		VpcOriginID string `json:"VpcOriginId"`
	} `json:"VpcOriginConfig"`
}

// CacheBehavior is DefaultCacheBehavior or one of CacheBehaviors.
type CacheBehavior struct {
	PathPattern          string `json:"PathPattern"`
	TargetOriginID       string `json:"TargetOriginId"`
	ViewerProtocolPolicy string `json:"ViewerProtocolPolicy"`
	AllowedMethods       *struct {
		Quantity      int          `json:"Quantity"`
		Items         []string     `json:"Items"`
		CachedMethods list[string] `json:"CachedMethods"`
	} `json:"AllowedMethods"`
	SmoothStreaming            bool `json:"SmoothStreaming"`
	Compress                   bool `json:"Compress"`
	LambdaFunctionAssociations list[struct {
		LambdaFunctionARN string `json:"LambdaFunctionARN"`
		EventType         string `json:"EventType"`
		IncludeBody       bool   `json:"IncludeBody"`
	}] `json:"LambdaFunctionAssociations"`
	FunctionAssociations list[struct {
		FunctionARN string `json:"FunctionARN"`
		EventType   string `json:"EventType"`
	}] `json:"FunctionAssociations"`
	TrustedSigners          *enabled         `json:"TrustedSigners"`
	TrustedKeyGroups        *enabled         `json:"TrustedKeyGroups"`
	FieldLevelEncryptionID  string           `json:"FieldLevelEncryptionId"`
	RealtimeLogConfigArn    string           `json:"RealtimeLogConfigArn"`
	CachePolicyID           string           `json:"CachePolicyId"`
	OriginRequestPolicyID   string           `json:"OriginRequestPolicyId"`
	ResponseHeadersPolicyID string           `json:"ResponseHeadersPolicyId"`
	ForwardedValues         *ForwardedValues `json:"ForwardedValues"`
	MinTTL                  *int64           `json:"MinTTL"`
	DefaultTTL              *int64           `json:"DefaultTTL"`
	MaxTTL                  *int64           `json:"MaxTTL"`
}

type enabled struct {
	Enabled  bool `json:"Enabled"`
	Quantity int  `json:"Quantity"`
}

// ForwardedValues is the legacy cache settings of a behavior without a
// cache policy.
type ForwardedValues struct {
	QueryString bool `json:"QueryString"`
	Cookies     struct {
		Forward          string       `json:"Forward"`
		WhitelistedNames list[string] `json:"WhitelistedNames"`
	} `json:"Cookies"`
	Headers              list[string] `json:"Headers"`
	QueryStringCacheKeys list[string] `json:"QueryStringCacheKeys"`
}

// CustomErrorResponse is one entry of CustomErrorResponses.
type CustomErrorResponse struct {
	ErrorCode          int    `json:"ErrorCode"`
	ResponsePagePath   string `json:"ResponsePagePath"`
	ResponseCode       string `json:"ResponseCode"`
	ErrorCachingMinTTL *int64 `json:"ErrorCachingMinTTL"`
}

// CachePolicy is the output of get-cache-policy.
type CachePolicy struct {
	ID     string `json:"Id"`
	Config struct {
		Name                                     string `json:"Name"`
		MinTTL                                   int64  `json:"MinTTL"`
		DefaultTTL                               *int64 `json:"DefaultTTL"`
		MaxTTL                                   *int64 `json:"MaxTTL"`
		ParametersInCacheKeyAndForwardedToOrigin struct {
			EnableAcceptEncodingGzip   bool          `json:"EnableAcceptEncodingGzip"`
			EnableAcceptEncodingBrotli bool          `json:"EnableAcceptEncodingBrotli"`
			HeadersConfig              namedSelector `json:"HeadersConfig"`
			CookiesConfig              namedSelector `json:"CookiesConfig"`
			QueryStringsConfig         namedSelector `json:"QueryStringsConfig"`
		} `json:"ParametersInCacheKeyAndForwardedToOrigin"`
	} `json:"CachePolicyConfig"`
}

// OriginRequestPolicy is the output of get-origin-request-policy.
type OriginRequestPolicy struct {
	ID     string `json:"Id"`
	Config struct {
		Name               string        `json:"Name"`
		HeadersConfig      namedSelector `json:"HeadersConfig"`
		CookiesConfig      namedSelector `json:"CookiesConfig"`
		QueryStringsConfig namedSelector `json:"QueryStringsConfig"`
	} `json:"OriginRequestPolicyConfig"`
}

// namedSelector is CloudFront's {HeaderBehavior|CookieBehavior|
// QueryStringBehavior, Headers|Cookies|QueryStrings}.
type namedSelector struct {
	HeaderBehavior      string       `json:"HeaderBehavior"`
	CookieBehavior      string       `json:"CookieBehavior"`
	QueryStringBehavior string       `json:"QueryStringBehavior"`
	Headers             list[string] `json:"Headers"`
	Cookies             list[string] `json:"Cookies"`
	QueryStrings        list[string] `json:"QueryStrings"`
}

func (s namedSelector) behavior() string {
	return s.HeaderBehavior + s.CookieBehavior + s.QueryStringBehavior
}

func (s namedSelector) names() []string {
	n := append(append(append([]string(nil), s.Headers.Items...), s.Cookies.Items...), s.QueryStrings.Items...)
	return n
}

// ResponseHeadersPolicy is the output of get-response-headers-policy.
type ResponseHeadersPolicy struct {
	ID     string `json:"Id"`
	Config struct {
		Name       string `json:"Name"`
		CorsConfig *struct {
			AccessControlAllowOrigins     list[string] `json:"AccessControlAllowOrigins"`
			AccessControlAllowHeaders     list[string] `json:"AccessControlAllowHeaders"`
			AccessControlAllowMethods     list[string] `json:"AccessControlAllowMethods"`
			AccessControlAllowCredentials bool         `json:"AccessControlAllowCredentials"`
			AccessControlExposeHeaders    list[string] `json:"AccessControlExposeHeaders"`
			AccessControlMaxAgeSec        int64        `json:"AccessControlMaxAgeSec"`
			OriginOverride                bool         `json:"OriginOverride"`
		} `json:"CorsConfig"`
		SecurityHeadersConfig *struct {
			XSSProtection *struct {
				Override   bool   `json:"Override"`
				Protection bool   `json:"Protection"`
				ModeBlock  bool   `json:"ModeBlock"`
				ReportURI  string `json:"ReportUri"`
			} `json:"XSSProtection"`
			FrameOptions *struct {
				Override    bool   `json:"Override"`
				FrameOption string `json:"FrameOption"`
			} `json:"FrameOptions"`
			ReferrerPolicy *struct {
				Override       bool   `json:"Override"`
				ReferrerPolicy string `json:"ReferrerPolicy"`
			} `json:"ReferrerPolicy"`
			ContentSecurityPolicy *struct {
				Override              bool   `json:"Override"`
				ContentSecurityPolicy string `json:"ContentSecurityPolicy"`
			} `json:"ContentSecurityPolicy"`
			ContentTypeOptions *struct {
				Override bool `json:"Override"`
			} `json:"ContentTypeOptions"`
			StrictTransportSecurity *struct {
				Override               bool  `json:"Override"`
				IncludeSubdomains      bool  `json:"IncludeSubdomains"`
				Preload                bool  `json:"Preload"`
				AccessControlMaxAgeSec int64 `json:"AccessControlMaxAgeSec"`
			} `json:"StrictTransportSecurity"`
		} `json:"SecurityHeadersConfig"`
		ServerTimingHeadersConfig *struct {
			Enabled      bool     `json:"Enabled"`
			SamplingRate *float64 `json:"SamplingRate"`
		} `json:"ServerTimingHeadersConfig"`
		CustomHeadersConfig list[struct {
			Header   string `json:"Header"`
			Value    string `json:"Value"`
			Override bool   `json:"Override"`
		}] `json:"CustomHeadersConfig"`
		RemoveHeadersConfig list[struct {
			Header string `json:"Header"`
		}] `json:"RemoveHeadersConfig"`
	} `json:"ResponseHeadersPolicyConfig"`
}
