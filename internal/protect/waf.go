package protect

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"

	"github.com/edgeward/edgeward/internal/edge"
)

// exclusionBaseID is the first rule id of the rules generated for
// exclusions under a path (ModSecurity's range for local rules); an
// operator's own directives should not use 99000-99999.
const exclusionBaseID = 99000

// waf is the managed rule group of a set: one compiled Coraza WAF, shared
// by every request and every set with the same configuration.
type waf struct {
	mode    string
	maxBody int64
	w       coraza.WAF
}

// newWAF compiles the CRS with cfg's settings. It takes a second or so:
// it runs at start and at reload, never per request.
func newWAF(cfg WAFConfig) (*waf, error) {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(directives(cfg)))
	if err != nil {
		return nil, err
	}
	return &waf{mode: cfg.Mode, maxBody: int64(cfg.MaxBodyBytes), w: w}, nil
}

// directives is the SecLang that loads the CRS with cfg's paranoia level,
// thresholds and exclusions, then the operator's own directives. The
// engine always runs On: count mode is the edge ignoring the verdict, so
// that both modes detect exactly the same.
func directives(cfg WAFConfig) string { return crsDirectives(cfg, true) }

// crsDirectives is directives with or without the tuning of wafspeed.go
// (the tests compare the two).
func crsDirectives(cfg WAFConfig, tuned bool) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("Include @coraza.conf-recommended")
	line("SecRuleEngine On")
	if tuned {
		b.WriteString(tuningDirectives)
	}
	line("SecResponseBodyAccess Off")
	line("SecAuditEngine Off")
	// The whole body the edge accepts is inspected in memory; the edge
	// refuses a larger one before Coraza sees it.
	line("SecRequestBodyLimit %d", cfg.MaxBodyBytes)
	line("SecRequestBodyInMemoryLimit %d", cfg.MaxBodyBytes)
	line("SecRequestBodyLimitAction Reject")
	line("Include @crs-setup.conf.example")
	line(`SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d"`, cfg.ParanoiaLevel)
	line(`SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=%d"`, cfg.ParanoiaLevel)
	line(`SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=%d,setvar:tx.outbound_anomaly_score_threshold=4"`, cfg.InboundAnomalyThreshold)
	// Behaviors decide which methods an API serves; the CRS's default
	// list (no PUT, PATCH, DELETE) would refuse REST APIs.
	line(`SecAction "id:900200,phase:1,pass,t:none,nolog,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"`)
	// JSON APIs send JSON under more media types than the CRS's default
	// list (RFC 7396 merge patch, RFC 6902 JSON patch, JSON:API); Coraza
	// parses every +json type as JSON, so they are inspected as JSON.
	line(`SecAction "id:900220,phase:1,pass,t:none,nolog,setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| |text/xml| |application/xml| |application/soap+xml| |application/json| |application/merge-patch+json| |application/json-patch+json| |application/vnd.api+json| |application/problem+json|'"`)
	// Exclusions are ctl actions of a phase 1 rule that runs before the
	// CRS: under a path prefix, or for every request (SecAction). They
	// accept any id or tag, so an exclusion naming a rule a CRS update
	// removed does not stop the edge from starting.
	for i, e := range cfg.Exclusions {
		var ctl []string
		for _, r := range e.RuleIDs {
			if len(e.Args) == 0 {
				ctl = append(ctl, fmt.Sprintf("ctl:ruleRemoveById=%d", r))
			}
			for _, a := range e.Args {
				ctl = append(ctl, fmt.Sprintf("ctl:ruleRemoveTargetById=%d;ARGS:%s", r, a))
			}
		}
		for _, t := range e.Tags {
			if len(e.Args) == 0 {
				ctl = append(ctl, "ctl:ruleRemoveByTag="+t)
			}
			for _, a := range e.Args {
				ctl = append(ctl, fmt.Sprintf("ctl:ruleRemoveTargetByTag=%s;ARGS:%s", t, a))
			}
		}
		id := exclusionBaseID + i
		if e.PathPrefix == "" {
			line(`SecAction "id:%d,phase:1,pass,t:none,nolog,%s"`, id, strings.Join(ctl, ","))
			continue
		}
		line(`SecRule REQUEST_FILENAME "@beginsWith %s" "id:%d,phase:1,pass,t:none,nolog,%s"`, e.PathPrefix, id, strings.Join(ctl, ","))
	}
	line("Include @owasp_crs/REQUEST-*.conf")
	if cfg.Directives != "" {
		b.WriteString(cfg.Directives)
		b.WriteByte('\n')
	}
	return b.String()
}

// wafResult is what the rule group found.
type wafResult struct {
	interrupted bool
	ruleID      int // the rule that interrupted
	matched     []matchedRule
}

type matchedRule struct {
	id   int
	tags []string
	data string // the rule's logdata, expanded
}

// inspect runs the transaction phases over the request as the origin
// will get it: the canonical URI, the headers after hygiene, the client
// address after trusted_proxies, and the body, which is read whole (up to
// max_body_bytes) and put back for the origin byte for byte. A body over
// the limit is a 413 in any mode: it is never passed un-inspected.
func (w *waf) inspect(r *edge.Request, v *view) (res wafResult, err error) {
	hr := r.HTTP
	tx := w.w.NewTransaction()
	defer func() {
		tx.ProcessLogging()
		_ = tx.Close()
	}()
	ip := ""
	if v.ip.IsValid() {
		ip = v.ip.String()
	}
	tx.ProcessConnection(ip, int(r.Client.Port()), "", 0)
	tx.ProcessURI(hr.URL.RequestURI(), hr.Method, hr.Proto)
	for k, vv := range hr.Header {
		for _, x := range vv {
			tx.AddRequestHeader(k, x)
		}
	}
	if _, ok := hr.Header["Content-Length"]; !ok && hr.ContentLength > 0 {
		tx.AddRequestHeader("Content-Length", strconv.FormatInt(hr.ContentLength, 10))
	}
	for _, te := range hr.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	host := r.Host
	if host == "" {
		host = hr.Host
	}
	if host != "" {
		tx.AddRequestHeader("Host", host)
		tx.SetServerName(host)
	}
	if it := tx.ProcessRequestHeaders(); it != nil {
		return w.result(tx, it), nil
	}
	if hr.Body != nil && hr.Body != http.NoBody {
		body, err := readBody(hr.Body, w.maxBody)
		if err != nil {
			return res, err
		}
		hr.Body = &replayBody{Reader: bytes.NewReader(body), orig: hr.Body}
		if len(body) > 0 && tx.IsRequestBodyAccessible() {
			it, _, err := tx.WriteRequestBody(body)
			if err != nil {
				return res, fmt.Errorf("waf: request body: %w", err)
			}
			if it != nil {
				return w.result(tx, it), nil
			}
		}
	}
	it, err := tx.ProcessRequestBody()
	if err != nil {
		return res, fmt.Errorf("waf: request body: %w", err)
	}
	return w.result(tx, it), nil
}

func (w *waf) result(tx types.Transaction, it *types.Interruption) wafResult {
	var res wafResult
	if it != nil {
		res.interrupted, res.ruleID = true, it.RuleID
	}
	for _, m := range tx.MatchedRules() {
		md := m.Rule()
		if md.ID() == 0 || m.Message() == "" {
			continue
		}
		res.matched = append(res.matched, matchedRule{id: md.ID(), tags: md.Tags(), data: m.Data()})
	}
	return res
}

// errBodyTooLarge is the 413 for a body the WAF cannot inspect whole.
var errBodyTooLarge = &edge.Error{Status: http.StatusRequestEntityTooLarge, Msg: "request body too large to inspect"}

// readBody reads rc whole, up to limit bytes.
func readBody(rc io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// replayBody gives the origin the body the WAF read, and closes the
// viewer's body when the origin stage closes it.
type replayBody struct {
	*bytes.Reader
	orig io.ReadCloser
}

func (b *replayBody) Close() error { return b.orig.Close() }
