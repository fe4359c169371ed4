package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/cloudfront"
)

// TestImportCloudFront runs the command as a user would: the written file
// passes `edgeward validate`, the report lists what was not mapped, and an
// existing file is not overwritten without --force.
func TestImportCloudFront(t *testing.T) {
	t.Setenv(cloudfront.CredentialEnv, "a-credential")
	dir := t.TempDir()
	out := filepath.Join(dir, "edgeward.yaml")
	td := filepath.Join("..", "cloudfront", "testdata")
	args := []string{"import", "cloudfront", filepath.Join(td, "api-lambda-edge.json"), "-o", out,
		"--policy", filepath.Join(td, "get-cache-policy.json"),
		"--policy", filepath.Join(td, "get-origin-request-policy.json"),
		"--policy", filepath.Join(td, "get-response-headers-policy.json")}
	var stdout, stderr bytes.Buffer
	if code := Execute(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("import exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"5 behaviors", "WebACLId", "TrustedKeyGroups", "FieldLevelEncryptionId", "GeoRestriction"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if code := Execute(context.Background(), []string{"validate", "-c", out}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "ok\n") {
		t.Errorf("validate of the import: exit %d, %s%s", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := Execute(context.Background(), args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "--force") {
		t.Errorf("second import without --force: exit %d, %s", code, stderr.String())
	}
	if code := Execute(context.Background(), append(args, "--force"), &stdout, &stderr); code != 0 {
		t.Errorf("import --force: exit %d, %s", code, stderr.String())
	}
	stderr.Reset()
	if code := Execute(context.Background(), []string{"import", "cloudfront", filepath.Join(td, "get-cache-policy.json"), "-o", filepath.Join(dir, "x.yaml")}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "get-distribution-config") {
		t.Errorf("import of a policy file as a distribution: exit %d, %s", code, stderr.String())
	}
}
