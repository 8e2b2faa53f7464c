package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/daemon"
)

func init() { addCommand(newUserCmd) }

// userFlags are the flags every user subcommand shares.
type userFlags struct {
	data   string
	config string
}

// open opens the account file of the data directory the flags name:
// --data, else the config's data, else the default "plumb-data".
func (f *userFlags) open(cmd *cobra.Command) (*accounts.DB, error) {
	dir := f.data
	if !cmd.Flags().Changed("data") && f.config != "" {
		cfg, err := daemon.LoadConfig(f.config)
		if err != nil {
			return nil, withExit(2, err)
		}
		dir = cfg.Data
	}
	db, err := accounts.Open(filepath.Join(dir, accounts.FileName))
	if err != nil {
		return nil, fmt.Errorf("%w (fix or remove the file; plumb user rewrites it)", err)
	}
	return db, nil
}

func newUserCmd() *cobra.Command {
	f := &userFlags{}
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the accounts every plumb server authenticates against",
		Long: `user adds, removes and lists the accounts that plumb serve's FTP, SMTP
submission and POP3 services share. They live in
<data>/accounts.toml (mode 0600, bcrypt hashes); a running plumb serve
picks up changes at once, without a restart.

A user name is 1-64 characters of a-z, 0-9, '.', '_' and '-', starting
with a letter or digit; it is also the user's home in the file tree and
the mail store. Passwords are read from the terminal without echo, or as
the first line of standard input when it is not a terminal.`,
		Example: `  plumb user add alice                       # asks for the password twice
  echo 's3cret' | plumb user add bob --data /srv/plumb
  plumb user passwd alice
  plumb user passwd alice --apop            # set a POP3 APOP secret
  plumb user list --json
  plumb user token alice                    # an API token for the admin listener
  plumb user del bob`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.data, "data", "plumb-data", "data `directory` holding accounts.toml (as for plumb serve)")
	pf.StringVar(&f.config, "config", "", "take the data directory from this plumb serve config `file`")
	cmd.AddCommand(newUserAddCmd(f), newUserPasswdCmd(f), newUserFullNameCmd(f), newUserDelCmd(f), newUserListCmd(f), newUserTokenCmd(f))
	return cmd
}

func newUserAddCmd(f *userFlags) *cobra.Command {
	var fromStdin bool
	var fullName string
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account",
		Long: `add creates account NAME with a password read from the terminal (twice,
without echo) or from the first line of standard input.`,
		Example: `  plumb user add alice
  printf '%s\n' "$PASS" | plumb user add alice --data /srv/plumb
  plumb user add alice --full-name "Alice Liddell"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := accounts.CheckName(name); err != nil {
				return withExit(2, err)
			}
			db, err := f.open(cmd)
			if err != nil {
				return err
			}
			if _, ok := db.Lookup(name); ok {
				return fmt.Errorf("user %q already exists; change its password with: plumb user passwd %s", name, name)
			}
			pw, err := readSecret(cmd, fromStdin, "Password for "+name)
			if err != nil {
				return err
			}
			if err := db.Add(name, pw); err != nil {
				return explainAccountErr(err, name)
			}
			if fullName != "" {
				if err := db.SetFullName(name, fullName); err != nil {
					return explainAccountErr(err, name)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added user %s (home %s) to %s\n", name, name, db.Path())
			return nil
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input even if it is a terminal")
	cmd.Flags().StringVar(&fullName, "full-name", "", "the person's `name`, shown by finger")
	return cmd
}

func newUserFullNameCmd(f *userFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "fullname NAME [FULL NAME]",
		Short: "Set or clear an account's full name (shown by finger)",
		Long: `fullname sets the full name of account NAME to the rest of the arguments,
joined with spaces; with none it clears it. Finger shows it when
[finger] exposes the "name" field.`,
		Example: `  plumb user fullname alice Alice Liddell
  plumb user fullname alice            # clear it`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := f.open(cmd)
			if err != nil {
				return err
			}
			full := strings.Join(args[1:], " ")
			if err := db.SetFullName(args[0], full); err != nil {
				return explainAccountErr(err, args[0])
			}
			if full == "" {
				fmt.Fprintf(cmd.OutOrStdout(), "cleared the full name of %s\n", strings.ToLower(args[0]))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "set the full name of %s to %q\n", strings.ToLower(args[0]), full)
			}
			return nil
		},
	}
}

func newUserPasswdCmd(f *userFlags) *cobra.Command {
	var fromStdin, apop, clearAPOP bool
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Change an account's password or APOP secret",
		Long: `passwd replaces NAME's password, read like add reads it.

With --apop it sets the account's POP3 APOP secret instead. APOP needs the
secret in plain text on the server, so it is stored as given in
accounts.toml (readable only by its owner); use a secret different from
the password. POP3 refuses APOP for accounts without one. --clear-apop
removes it.`,
		Example: `  plumb user passwd alice
  echo 'n3w' | plumb user passwd alice --data /srv/plumb
  plumb user passwd alice --apop
  plumb user passwd alice --clear-apop`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			db, err := f.open(cmd)
			if err != nil {
				return err
			}
			if _, ok := db.Lookup(name); !ok {
				return explainAccountErr(fmt.Errorf("%w: %s", accounts.ErrNotFound, name), name)
			}
			switch {
			case apop && clearAPOP:
				return withExit(2, errors.New("--apop and --clear-apop contradict each other; give one"))
			case clearAPOP:
				if err := db.SetAPOPSecret(name, ""); err != nil {
					return explainAccountErr(err, name)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed the APOP secret of %s\n", name)
				return nil
			case apop:
				s, err := readSecret(cmd, fromStdin, "APOP secret for "+name)
				if err != nil {
					return err
				}
				if err := db.SetAPOPSecret(name, s); err != nil {
					return explainAccountErr(err, name)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "set the APOP secret of %s\n", name)
				return nil
			}
			pw, err := readSecret(cmd, fromStdin, "New password for "+name)
			if err != nil {
				return err
			}
			if err := db.SetPassword(name, pw); err != nil {
				return explainAccountErr(err, name)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "changed the password of %s\n", name)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&fromStdin, "password-stdin", false, "read the secret from standard input even if it is a terminal")
	fl.BoolVar(&apop, "apop", false, "set the POP3 APOP secret (stored in plain text) instead of the password")
	fl.BoolVar(&clearAPOP, "clear-apop", false, "remove the APOP secret, refusing APOP for this user")
	return cmd
}

func newUserDelCmd(f *userFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "del NAME",
		Aliases: []string{"delete", "rm"},
		Short:   "Delete an account (its files and mail are kept)",
		Long: `del removes account NAME; it can no longer log in to any service. Its
home in the file tree and its mailboxes are left on disk.`,
		Example: `  plumb user del bob
  plumb user del bob --data /srv/plumb`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := f.open(cmd)
			if err != nil {
				return err
			}
			if err := db.Delete(args[0]); err != nil {
				return explainAccountErr(err, args[0])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted user %s\n", strings.ToLower(args[0]))
			return nil
		},
	}
}

// userJSON is one account in plumb user list --json.
type userJSON struct {
	Name     string     `json:"name"`
	Home     string     `json:"home"`
	APOP     bool       `json:"apop"`
	FullName string     `json:"full_name,omitempty"`
	Created  *time.Time `json:"created,omitempty"`
}

func newUserListCmd(f *userFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the accounts",
		Example: `  plumb user list
  plumb user list --json --data /srv/plumb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := f.open(cmd)
			if err != nil {
				return err
			}
			list := db.List()
			out := cmd.OutOrStdout()
			if asJSON {
				js := make([]userJSON, 0, len(list))
				for _, a := range list {
					u := userJSON{Name: a.Name, Home: a.Home, APOP: a.APOP, FullName: a.FullName}
					if !a.Created.IsZero() {
						u.Created = &a.Created
					}
					js = append(js, u)
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(js)
			}
			if len(list) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no accounts in %s; add one with: plumb user add NAME\n", db.Path())
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tHOME\tAPOP\tCREATED")
			for _, a := range list {
				created, apopSet := "-", "no"
				if !a.Created.IsZero() {
					created = a.Created.Local().Format(time.DateTime)
				}
				if a.APOP {
					apopSet = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Home, apopSet, created)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of {name, home, apop, created}")
	return cmd
}

// explainAccountErr turns a database error into one that says what to do.
func explainAccountErr(err error, name string) error {
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return fmt.Errorf("no user %q; see plumb user list, or create it with plumb user add %s", name, name)
	case errors.Is(err, accounts.ErrExists):
		return fmt.Errorf("user %q already exists; change its password with: plumb user passwd %s", name, name)
	case errors.Is(err, accounts.ErrInvalidName), errors.Is(err, accounts.ErrInvalidPassword):
		return withExit(2, err)
	}
	return err
}

// readSecret reads a password without echo from a terminal (asking
// twice), or the first line of standard input when it is not a
// terminal or fromStdin is set.
func readSecret(cmd *cobra.Command, fromStdin bool, prompt string) (string, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		errw := cmd.ErrOrStderr()
		ask := func(p string) (string, error) {
			fmt.Fprintf(errw, "%s: ", p)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(errw)
			return string(b), err
		}
		first, err := ask(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		again, err := ask("Again")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if first != again {
			return "", withExit(2, errors.New("the two entries differ; nothing changed, try again"))
		}
		if first == "" {
			return "", withExit(2, errors.New("empty password; nothing changed"))
		}
		return first, nil
	}
	line, err := bufio.NewReaderSize(in, 512).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", withExit(2, errors.New("no password on standard input; pipe one line, e.g. echo PASS | plumb user add NAME"))
		}
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", withExit(2, errors.New("empty password on standard input; nothing changed"))
	}
	return line, nil
}
