package protect

import (
	"context"
	"testing"
)

// benchToken has the shape and size of the bench/waf.sh token: an RS256
// JWT of about 640 bytes (the signature alone is 342). Header rules of
// the CRS scan every header value, so its length matters.
const benchToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoidXNlci0wMDQyIiwiYXVkIjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20iLCJzY29wZSI6Im9yZGVyczpyZWFkIiwiaWF0IjoxNzY3MjI1NjAwLCJleHAiOjE3NjcyMjkyMDAsImp0aSI6ImIxYzJkM2U0LWY1YTYtNGI3Yy04ZDllLTBmMWEyYjNjNGQ1ZSJ9.UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA_TkB_yOaGglfIPk5VlDPk4C47bIkprJIoekk6P0K4uGpSSozBfGIy2EJAPnjR_rohtxlB3lex0XEw_yy6yxz4Uk0yGfuBXunJJm_oSHoNrKsFXJu59awr2qxPDjpLK4NFQV7FZmH-UzHQR1xfxRXmyqhAPu7NPpZP-rtJySLdi46tYBfB2WiucHX4PN8RJIb0_ZWTq338UKnJmjEfiI9Fu3YxHtGr8W67iYfU7JhUtJjuoOwN81JYuQ0gBJWuIXpyQUfMgsNuD856nrb0NdObex_PfrsyPZGVmZBp7omYPMBH8NXApHA"

// BenchmarkInspect_WAF is the cost of the CRS at PL1 on a benign
// authorized GET with a bearer token.
func BenchmarkInspect_WAF(b *testing.B) {
	s, _ := shared(b, ModeBlock)
	ctx := context.Background()
	for b.Loop() {
		r := req("GET", "/orders?status=shipped&page=2", "", "Authorization", "Bearer "+benchToken, "User-Agent", "wrk", "Accept", "*/*")
		if _, err := s.Inspect(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
