package joinerr

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestLeaves(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	wrapped := fmt.Errorf("w: %w", errors.Join(b, c)) // one Unwrap: a leaf
	for _, tc := range []struct {
		name string
		err  error
		want []error
	}{
		{"nil", nil, nil},
		{"single", a, []error{a}},
		{"joined", errors.Join(a, b), []error{a, b}},
		{"nested, in order", errors.Join(a, errors.Join(b, errors.Join(c))), []error{a, b, c}},
		{"wrapped join stays whole", wrapped, []error{wrapped}},
		{"multi-%w", fmt.Errorf("%w; %w", a, b), []error{a, b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Leaves(tc.err); !slices.Equal(got, tc.want) {
				t.Errorf("Leaves = %v; want %v", got, tc.want)
			}
		})
	}
}
