package protect

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

// Sink receives WAF log lines (an accesslog.Sink): it must not block.
type Sink interface {
	WriteLine(b []byte) bool
}

// Terminating rule types, as AWS WAF writes them.
const (
	typeRegular      = "REGULAR"
	typeRateBased    = "RATE_BASED"
	typeManagedGroup = "MANAGED_RULE_GROUP"
	typeDefault      = "DEFAULT"
)

// managedGroupID names the CRS in the log's ruleGroupList.
const managedGroupID = "edgeward#OWASP-CRS-v4"

// logEntry is one line of the WAF log, in AWS WAF's log format
// (https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html):
// the fields edgeward can fill, with the same names and meanings.
type logEntry struct {
	Timestamp           int64       `json:"timestamp"`
	FormatVersion       int         `json:"formatVersion"`
	WebACLID            string      `json:"webaclId"`
	TerminatingRuleID   string      `json:"terminatingRuleId"`
	TerminatingRuleType string      `json:"terminatingRuleType"`
	Action              string      `json:"action"`
	HTTPSourceName      string      `json:"httpSourceName"`
	HTTPSourceID        string      `json:"httpSourceId"`
	RuleGroupList       []ruleGroup `json:"ruleGroupList"`
	RateBasedRuleList   []rateEntry `json:"rateBasedRuleList"`
	NonTerminating      []ruleEntry `json:"nonTerminatingMatchingRules"`
	ResponseCodeSent    *int        `json:"responseCodeSent"`
	HTTPRequest         httpRequest `json:"httpRequest"`
	Labels              []label     `json:"labels,omitempty"`
}

type ruleGroup struct {
	RuleGroupID     string      `json:"ruleGroupId"`
	TerminatingRule *ruleEntry  `json:"terminatingRule"`
	NonTerminating  []ruleEntry `json:"nonTerminatingMatchingRules"`
	ExcludedRules   []ruleEntry `json:"excludedRules"`
}

type ruleEntry struct {
	RuleID string `json:"ruleId"`
	Action string `json:"action"`
}

type rateEntry struct {
	RateBasedRuleID   string `json:"rateBasedRuleId"`
	RateBasedRuleName string `json:"rateBasedRuleName"`
	LimitKey          string `json:"limitKey"`
	MaxRateAllowed    int    `json:"maxRateAllowed"`
	EvaluationWindow  int64  `json:"evaluationWindowSec"`
}

type httpRequest struct {
	ClientIP    string       `json:"clientIp"`
	Headers     []headerPair `json:"headers"`
	URI         string       `json:"uri"`
	Args        string       `json:"args"`
	HTTPVersion string       `json:"httpVersion"`
	HTTPMethod  string       `json:"httpMethod"`
	RequestID   string       `json:"requestId"`
}

type headerPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type label struct {
	Name string `json:"name"`
}

// redactedHeaders carry credentials: logged as REDACTED (AWS WAF's
// redacted fields).
var redactedHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Proxy-Authorization": true}

// record is what one inspection found, for the log and the metrics.
type record struct {
	action   string // allow, block, count
	termID   string
	termType string
	status   int
	group    *ruleGroup
	rate     []rateEntry
	counted  []ruleEntry
	labels   []string
}

func (rec *record) matched() bool {
	return rec.termType != typeDefault || rec.group != nil || len(rec.rate) > 0 || len(rec.counted) > 0
}

// encodeLog renders rec as one WAF log line.
func encodeLog(set string, r *edge.Request, rec *record, now time.Time) []byte {
	hr := r.HTTP
	e := logEntry{
		Timestamp:           now.UnixMilli(),
		FormatVersion:       1,
		WebACLID:            set,
		TerminatingRuleID:   rec.termID,
		TerminatingRuleType: rec.termType,
		Action:              strings.ToUpper(rec.action),
		HTTPSourceName:      "edgeward",
		HTTPSourceID:        set,
		RateBasedRuleList:   rec.rate,
		NonTerminating:      rec.counted,
		HTTPRequest: httpRequest{
			URI:         hr.URL.EscapedPath(),
			Args:        redactQuery(hr.URL.RawQuery),
			HTTPVersion: hr.Proto,
			HTTPMethod:  hr.Method,
			RequestID:   r.ID,
		},
	}
	if e.NonTerminating == nil {
		e.NonTerminating = []ruleEntry{}
	}
	if e.RateBasedRuleList == nil {
		e.RateBasedRuleList = []rateEntry{}
	}
	e.RuleGroupList = []ruleGroup{}
	if rec.group != nil {
		e.RuleGroupList = append(e.RuleGroupList, *rec.group)
	}
	if rec.status != 0 {
		e.ResponseCodeSent = &rec.status
	}
	if a := r.Client.Addr(); a.IsValid() {
		e.HTTPRequest.ClientIP = a.String()
	}
	names := make([]string, 0, len(hr.Header)+1)
	for k := range hr.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	e.HTTPRequest.Headers = append(e.HTTPRequest.Headers, headerPair{Name: "Host", Value: r.Host})
	for _, k := range names {
		for _, v := range hr.Header[k] {
			if redactedHeaders[k] {
				v = "REDACTED"
			}
			e.HTTPRequest.Headers = append(e.HTTPRequest.Headers, headerPair{Name: k, Value: v})
		}
	}
	for _, l := range rec.labels {
		e.Labels = append(e.Labels, label{Name: l})
	}
	b, err := json.Marshal(e)
	if err != nil {
		// Cannot happen: every field is a string, number or slice of them.
		return []byte(`{"error":` + strconv.Quote(err.Error()) + `}`)
	}
	return b
}

// redactQuery replaces the value of access_token (an OAuth 2.0 bearer
// token in a query, RFC 6750 section 2.3) with REDACTED, as the access log
// does by default.
func redactQuery(q string) string {
	if !strings.Contains(q, "access_token=") {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok && k == "access_token" {
			parts[i] = "access_token=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// statusOf is the status a blocking error sends.
func statusOf(err error) int {
	if e, ok := err.(*edge.Error); ok {
		return e.Status
	}
	return http.StatusInternalServerError
}
