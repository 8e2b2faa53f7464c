package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/internal/daemon"
	"github.com/plumbnet/plumb/internal/newsstore"
)

// newsDataFlags name the data directory, as for plumb user.
type newsDataFlags struct {
	data   string
	config string
}

func (f *newsDataFlags) dir(cmd *cobra.Command) (string, error) {
	dir := f.data
	if !cmd.Flags().Changed("data") && f.config != "" {
		cfg, err := daemon.LoadConfig(f.config)
		if err != nil {
			return "", withExit(2, err)
		}
		dir = cfg.Data
	}
	return daemon.NewsDir(dir), nil
}

func newNewsGroupCmd() *cobra.Command {
	f := &newsDataFlags{}
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Manage the newsgroups plumb serve carries",
		Long: `group adds, removes and lists the newsgroups of plumb serve's news
spool, <data>/news. A running plumb serve picks up a change at once.

A group is open for posting (the default), read-only (--read-only: only
feeds bring articles), or moderated (--moderator ACCOUNT-OR-ADDRESS:
articles without an Approved header are mailed to the moderator, and an
Approved header is accepted only from the moderator's account).
--max-age and --max-count set the group's retention.`,
		Example: `  plumb news group add local.test --description "Testing"
  plumb news group add local.announce --moderator alice
  plumb news group add local.archive --read-only --max-age 720h
  plumb news group list --json
  plumb news group del local.test`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.data, "data", "plumb-data", "data `directory` of plumb serve")
	pf.StringVar(&f.config, "config", "", "take the data directory from this plumb serve config `file`")

	var (
		readOnly  bool
		moderator string
		desc      string
		maxAge    time.Duration
		maxCount  int
	)
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a newsgroup",
		Args:  cobra.ExactArgs(1),
		Example: `  plumb news group add local.test
  plumb news group add local.mod --moderator alice --description "Moderated"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.dir(cmd)
			if err != nil {
				return err
			}
			cfg := newsstore.GroupConfig{Name: args[0], Status: newsstore.Posting, Description: desc,
				Moderator: moderator, MaxAge: maxAge, MaxCount: maxCount}
			switch {
			case readOnly && moderator != "":
				return withExit(2, fmt.Errorf("--read-only and --moderator exclude each other"))
			case readOnly:
				cfg.Status = newsstore.ReadOnly
			case moderator != "":
				cfg.Status = newsstore.Moderated
			}
			if err := newsstore.AddGroup(dir, cfg); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s\n", args[0])
			return nil
		},
	}
	add.Flags().BoolVar(&readOnly, "read-only", false, "no posting; only feeds bring articles")
	add.Flags().StringVar(&moderator, "moderator", "", "make the group moderated by this account (or address)")
	add.Flags().StringVar(&desc, "description", "", "one line for LIST NEWSGROUPS")
	add.Flags().DurationVar(&maxAge, "max-age", 0, "expire articles older than this (0: keep)")
	add.Flags().IntVar(&maxCount, "max-count", 0, "keep at most this many articles (0: no limit)")

	del := &cobra.Command{
		Use:     "del NAME",
		Short:   "Remove a newsgroup (its articles stay in the other groups they were posted to)",
		Args:    cobra.ExactArgs(1),
		Example: `  plumb news group del local.test`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.dir(cmd)
			if err != nil {
				return err
			}
			if err := newsstore.DeleteGroup(dir, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
			return nil
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the newsgroups",
		Args:    cobra.NoArgs,
		Example: `  plumb news group list --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.dir(cmd)
			if err != nil {
				return err
			}
			gs, err := newsstore.ReadGroups(dir)
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					Name        string `json:"name"`
					Status      string `json:"status"`
					Moderator   string `json:"moderator,omitempty"`
					Description string `json:"description,omitempty"`
					MaxAge      string `json:"max_age,omitempty"`
					MaxCount    int    `json:"max_count,omitempty"`
					Created     string `json:"created"`
				}
				rows := []row{}
				for _, g := range gs {
					r := row{Name: g.Name, Status: string(g.Status), Moderator: g.Moderator, Description: g.Description,
						MaxCount: g.MaxCount, Created: g.Created.Format(time.RFC3339)}
					if g.MaxAge > 0 {
						r.MaxAge = g.MaxAge.String()
					}
					rows = append(rows, r)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATUS\tMODERATOR\tDESCRIPTION")
			for _, g := range gs {
				fmt.Fprintf(tw, "%s\t%c\t%s\t%s\n", g.Name, g.Status, g.Moderator, g.Description)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(add, del, list)
	return cmd
}
