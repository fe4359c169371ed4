package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgeward/edgeward/internal/cloudfront"
	"github.com/edgeward/edgeward/internal/config"
)

func importCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Write an edgeward.yaml from another system's configuration",
	}
	cmd.AddCommand(importCloudFrontCmd())
	return cmd
}

func importCloudFrontCmd() *cobra.Command {
	var out, listen string
	var policies []string
	var force bool
	cmd := &cobra.Command{
		Use:   "cloudfront FILE.json",
		Short: "Import a CloudFront distribution (aws cloudfront get-distribution-config --id ID)",
		Long: `Reads the output of aws cloudfront get-distribution-config (and, with --policy,
of get-cache-policy, get-origin-request-policy or get-response-headers-policy for
the custom policies the distribution uses) and writes an edgeward.yaml with its
origins and cache behaviors in the same order. Managed policies are written by
name. Everything that could not be mapped is listed, with the reason.`,
		Example: `  aws cloudfront get-distribution-config --id E2QWRUHEXAMPLE > dist.json
  aws cloudfront get-cache-policy --id 1a2b3c4d-... > cache-policy.json
  edgeward import cloudfront dist.json --policy cache-policy.json -o edgeward.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			d, err := cloudfront.ParseDistribution(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			var p cloudfront.Policies
			for _, name := range policies {
				b, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				if err := p.AddPolicy(b); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
			res, err := cloudfront.Convert(d, p, listen)
			if err != nil {
				return err
			}
			// The file must load as serve would load it; the credential's
			// variable may be unset here, which validate would report.
			lookup := func(k string) (string, bool) {
				if v, ok := os.LookupEnv(k); ok {
					return v, true
				}
				return "placeholder", k == cloudfront.CredentialEnv
			}
			if _, err := config.ParseEdge(out, res.YAML, lookup); err != nil {
				return fmt.Errorf("the imported file does not validate (a bug in the import, please report it): %w", err)
			}
			if !force {
				if _, err := os.Stat(out); err == nil {
					return fmt.Errorf("%s exists (use --force to overwrite it)", out)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if err := os.WriteFile(out, res.YAML, 0o644); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s: %d origins, %d behaviors (%v)\n", out, len(d.Origins.Items), len(res.Behaviors), res.Behaviors)
			if len(res.Notes) == 0 {
				fmt.Fprintln(w, "everything was mapped")
				return nil
			}
			fmt.Fprintf(w, "not mapped, or mapped in part (%d):\n", len(res.Notes))
			for _, n := range res.Notes {
				fmt.Fprintln(w, "  -", n)
			}
			fmt.Fprintf(w, "check it with: edgeward validate -c %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "edgeward.yaml", "file to write")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "viewer listener of the written file")
	cmd.Flags().StringArrayVar(&policies, "policy", nil, "output of get-cache-policy, get-origin-request-policy or get-response-headers-policy (repeatable)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the output file")
	return cmd
}
