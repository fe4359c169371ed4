package decisionapi

import (
	"net/http"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/sideband"
)

// Explain serves POST /v1/decisions/explain for the admin listener: it
// takes a sideband request body and answers with the decision, the reply
// the sideband API would send, and the trace of every step (which service,
// which operation, which rule decided). Tokens in the request are verified
// as for real; nothing is counted or logged as a decision. It asks for no
// gateway credential: mount it only where the admin listener's own
// protection applies.
type Explain struct {
	s *Service
}

// ExplainPath is where Explain is served.
const ExplainPath = "/v1/decisions/explain"

// ExplainHandler returns the Service's explain door.
func (s *Service) ExplainHandler() *Explain { return &Explain{s: s} }

// Explanation is Explain's answer.
type Explanation struct {
	Decision  string           `json:"decision"` // allow or deny
	Status    int              `json:"status"`
	Reason    decision.Reason  `json:"reason"`
	Service   string           `json:"service,omitempty"`
	Operation string           `json:"operation,omitempty"`
	Subject   string           `json:"subject,omitempty"`
	Params    []decision.Param `json:"params,omitempty"`
	Reply     *sideband.Reply  `json:"reply"`
	Trace     []decision.Step  `json:"trace"`
}

// ServeHTTP implements http.Handler.
func (x *Explain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := &Handler{s: x.s}
	cid := correlationID(r.Header.Get("Correlation-Id"))
	w.Header().Set("Correlation-Id", cid)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, cid, http.StatusMethodNotAllowed, codeMethod, "Use POST with a sideband request body")
		return
	}
	sn := x.s.snap.Load()
	req, ok := h.readRequest(w, r, sn, cid)
	if !ok {
		return
	}
	var d decision.Decision
	rep, serr := x.s.decide(r.Context(), sn, req, -1, &d, true)
	if serr != nil {
		h.fail(w, cid, serr.Status, serr.Body.Code, serr.Body.Message)
		return
	}
	out := Explanation{
		Decision: "deny", Status: d.Status, Reason: d.Reason,
		Service: d.Service, Operation: d.Operation, Subject: d.Subject,
		Params: d.Params, Reply: rep, Trace: d.Trace.Steps,
	}
	if d.Allowed {
		out.Decision = "allow"
	}
	h.write(w, http.StatusOK, out)
}

var _ http.Handler = (*Explain)(nil)
