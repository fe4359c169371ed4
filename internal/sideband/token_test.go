package sideband

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAccessToken_KeepsCustomClaims(t *testing.T) {
	in := `{"active":true,"sub":"kong-user","scope":"a b","aud":["x","y"],"exp":4102444800,"groups":["admins"],"tenant":"t9","nested":{"k":1}}`
	var at AccessToken
	if err := json.Unmarshal([]byte(in), &at); err != nil {
		t.Fatal(err)
	}
	if !at.Active || at.Subject != "kong-user" || len(at.Scope) != 2 || len(at.Audience) != 2 || at.Expiry != 4102444800 {
		t.Errorf("registered members = %+v", at)
	}
	want := map[string]string{"groups": `["admins"]`, "tenant": `"t9"`, "nested": `{"k":1}`}
	got := map[string]string{}
	for k, v := range at.Extra {
		got[k] = string(v)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extra (-want +got):\n%s", diff)
	}

	// Round trip: encoding keeps every member.
	out, err := json.Marshal(at)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	json.Unmarshal([]byte(in), &a)
	json.Unmarshal(out, &b)
	b["scope"] = "a b" // StringList encodes as an array
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("round trip %s (-in +out):\n%s", out, diff)
	}

	// No custom claims: Extra stays nil, and a registered name in Extra
	// never overrides the field.
	var plain AccessToken
	json.Unmarshal([]byte(`{"active":false,"sub":"s"}`), &plain)
	if plain.Extra != nil {
		t.Errorf("Extra = %v, want nil", plain.Extra)
	}
	plain.Extra = map[string]json.RawMessage{"sub": json.RawMessage(`"mallory"`)}
	out, _ = json.Marshal(plain)
	if string(out) != `{"active":false,"sub":"s"}` {
		t.Errorf("Marshal with a registered name in Extra = %s", out)
	}
}
