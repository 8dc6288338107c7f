package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/web"
)

func newWeb() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "web",
		Short: "Serve a local page to run scenarios and watch their ladders in a browser",
		Long: `Serve a local page on which to pick a scenario, set the link's impairments and a
seed, run it, and watch its ladder drawn packet by packet with both hosts' states.
The server listens on loopback only; the page loads nothing from elsewhere.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := web.Listen(addr)
			if err != nil {
				return usageError{fmt.Errorf("--addr: %w", err)}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			srv := web.Server()
			fmt.Fprintf(cmd.OutOrStdout(), "synack web: open http://%s/ (Ctrl-C stops)\n", ln.Addr())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return err
			}
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on: loopback only (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)")
	return cmd
}
