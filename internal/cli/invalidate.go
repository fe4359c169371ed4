package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func invalidateCmd() *cobra.Command {
	var admin string
	cmd := &cobra.Command{
		Use:   "invalidate PATH...",
		Short: "Invalidate cached objects (CloudFront syntax: /orders/1, /images/*)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			body, _ := json.Marshal(map[string][]string{"paths": paths})
			base := admin
			if !strings.Contains(base, "://") {
				base = "http://" + base
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(base, "/")+"/invalidations", bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				return fmt.Errorf("invalidate: %w", err)
			}
			defer res.Body.Close()
			out, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			if res.StatusCode/100 != 2 {
				return fmt.Errorf("invalidate: admin answered %s: %s", res.Status, bytes.TrimSpace(out))
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(bytes.TrimSpace(out)))
			return nil
		},
	}
	cmd.Flags().StringVarP(&admin, "admin", "a", "127.0.0.1:9901", "the edge's admin listener")
	return cmd
}
