package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/internal/daemon"
)

func init() { addCommand(newServeCmd) }

func newServeCmd() *cobra.Command {
	var (
		configFile  string
		dataDir     string
		listen      string
		logFormat   string
		printConfig bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every enabled plumb server at once from one config",
		Long: `serve runs the plumb daemon: every enabled service (echo, discard, daytime,
qotd, chargen, time, and the protocol servers) from one TOML config, sharing
one set of accounts and one data directory.

With no config it runs the embedded default: every service on 127.0.0.1 at
its well-known port + 10000, data in ./plumb-data. On first start it creates
an account and prints its password once. A table of what listens where is
printed when every service is up. SIGINT or SIGTERM stops accepting and
lets open sessions finish (limits.shutdown_grace); a second signal stops at
once. Metrics, health and a status page are on the admin listener.`,
		Example: `  plumb serve                              # embedded default config
  plumb serve --config plumb.toml --data /srv/plumb
  plumb serve --listen 0.0.0.0             # every service on all interfaces
  plumb serve --print-config > plumb.toml  # start a config from the effective one`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := daemon.LoadConfig(configFile)
			if err != nil {
				return withExit(2, err)
			}
			if cmd.Flags().Changed("data") {
				cfg.Data = dataDir
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			if cmd.Flags().Changed("log-format") {
				cfg.Log.Format = logFormat
			}
			if printConfig {
				b, err := cfg.Marshal()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return runServe(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cfg)
		},
	}
	defaults := daemon.DefaultConfig() // the flags' defaults are the embedded config's, not a copy
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "TOML config `file` read over the embedded default")
	f.StringVar(&dataDir, "data", defaults.Data, "data `directory` (accounts, files, mail, certificate)")
	f.StringVar(&listen, "listen", defaults.Listen, "`host` every service binds unless its addr names one")
	f.StringVar(&logFormat, "log-format", defaults.Log.Format, "log format: text or json")
	f.BoolVar(&printConfig, "print-config", false, "print the effective config, commented, and exit")
	return cmd
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log.level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// runServe runs the daemon until ctx is done (Execute's ctx ends at the
// first SIGINT or SIGTERM), then drains it for limits.shutdown_grace; a
// second signal cuts the draining short and the exit status says so.
func runServe(ctx context.Context, stdout, stderr io.Writer, cfg *daemon.Config) error {
	log, err := newLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return withExit(2, err)
	}
	d := daemon.New(cfg, log, stdout)
	if err := d.Start(ctx); err != nil {
		log.Error("plumb serve could not start", "err", err)
		return err
	}
	printTable(stdout, d.Bound())

	<-ctx.Done()
	// Listen for the second signal before saying so: a signal that
	// comes after "shutting down" is logged is never missed.
	force, stopForce := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopForce()
	grace := cfg.Limits.ShutdownGrace.Duration
	log.Info("shutting down: no new connections; open sessions may finish", "cause", context.Cause(ctx), "grace", grace)
	sctx, cancel := context.WithTimeout(force, grace)
	defer cancel()
	warned := make(chan struct{})
	stopWarn := context.AfterFunc(force, func() {
		defer close(warned)
		log.Warn("second signal: closing open sessions now", "cause", context.Cause(force))
	})
	start := time.Now()
	err = d.Shutdown(sctx)
	if !stopWarn() {
		<-warned // the warning, once begun, is written before the last lines and the exit
	}
	if err != nil {
		log.Warn("stopped, cutting off sessions that were still open", "after", time.Since(start).Round(time.Millisecond))
		return withExit(1, err)
	}
	log.Info("stopped cleanly: every session finished", "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// printTable prints where every service listens; tests parse it, so its
// shape (a SERVICE header, one row per socket, a blank line) is stable.
func printTable(w io.Writer, bound []daemon.Bound) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tNET\tADDRESS")
	for _, b := range bound {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, b.Net, b.Addr)
	}
	tw.Flush()
	fmt.Fprintln(w, strings.Repeat("", 0))
}
