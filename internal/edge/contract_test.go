package edge

import "testing"

func TestRequest_SetByFunctionIsOwned(t *testing.T) {
	owned := newOwnedSet(true, []string{"X-Tenant"})
	r := &Request{owned: owned.hasFn}
	if r.Owned("X-User-Id") {
		t.Fatal("X-User-Id owned before any function set it")
	}
	r.SetByFunction("X-User-Id")
	r.SetByFunction("X-User-Id")
	r.SetByFunction("X-Tenant") // already owned: not recorded twice
	if !r.Owned("X-User-Id") || !r.Owned("X-Tenant") {
		t.Errorf("Owned after SetByFunction: X-User-Id %v, X-Tenant %v; want both true", r.Owned("X-User-Id"), r.Owned("X-Tenant"))
	}
	if len(r.set) != 1 {
		t.Errorf("recorded %v, want just X-User-Id once", r.set)
	}
	if r.Owned("X-Other") {
		t.Error("a header nobody set is owned")
	}
}
