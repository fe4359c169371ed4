package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runAuthz serves the trivial authorizer until ctx ends: on -plain the
// nginx auth_request / Caddy forward_auth style (204 when the request
// carries Authorization, 403 otherwise), on -sideband the same rule
// spoken as PingOne Authorize's sideband API for edgeward's authorize
// function.
func runAuthz(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("authz", flag.ExitOnError)
	plain := fs.String("plain", "", "listen address of the auth_request/forward_auth style authorizer")
	side := fs.String("sideband", "", "listen address of the sideband style authorizer")
	cred := fs.String("credential", "", "gateway credential the sideband authorizer requires in CLIENT-TOKEN")
	fs.Parse(args)
	if *plain == "" && *side == "" {
		return errors.New("want -plain, -sideband or both")
	}
	var srvs []*http.Server
	errc := make(chan error, 2)
	serve := func(addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		srvs = append(srvs, s)
		go func() { errc <- s.Serve(ln) }()
		return nil
	}
	if *plain != "" {
		if err := serve(*plain, http.HandlerFunc(plainAuthz)); err != nil {
			return err
		}
	}
	if *side != "" {
		if err := serve(*side, sidebandAuthz(*cred)); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	for _, s := range srvs {
		s.Close()
	}
	return nil
}

// plainAuthz allows any request that carries Authorization, as the peers'
// trivial authorizer in /work/shared/peers/nginx-edge.conf does.
func plainAuthz(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sidebandAuthz is plainAuthz over the sideband API: an allow echoes the
// request with its authorization header removed (as edgeward's decision
// statement remove_headers: [authorization] and HAProxy's del-header do,
// so that the answer is cacheable), a deny is a 403 decision.
func sidebandAuthz(credential string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+requestPath, func(w http.ResponseWriter, r *http.Request) {
		if credential != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get(credentialHeader)), []byte(credential)) != 1 {
			sidebandError(w, http.StatusUnauthorized, "INVALID_TOKEN", "The Gateway Token is invalid")
			return
		}
		in, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
		if err != nil {
			sidebandError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
			return
		}
		body, err := decide(in)
		if err != nil {
			sidebandError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
			return
		}
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(body)
	})
	return mux
}

func sidebandError(w http.ResponseWriter, status int, code, msg string) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"id":"benchkit","code":%q,"message":%q}`, code, msg)
}
