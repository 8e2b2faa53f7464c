package finger

import (
	"fmt"
	"strings"
	"time"
)

// timeLayout is how times are shown, in the manner of BSD finger.
const timeLayout = "Mon Jan _2 15:04 2006 (MST)"

// formatEntry is the answer about one user, with LF line ends.
func formatEntry(e *Entry, verbose bool, loc *time.Location) string {
	var b strings.Builder
	if e.Name != "" {
		fmt.Fprintf(&b, "%-32s Name: %s\n", "Login: "+e.Login, e.Name)
	} else {
		fmt.Fprintf(&b, "Login: %s\n", e.Login)
	}
	if e.LastLoginShown {
		if e.LastLogin.Since.IsZero() {
			b.WriteString("Never logged in.\n")
		} else {
			fmt.Fprintf(&b, "Last login %s over %s\n", e.LastLogin.Since.In(loc).Format(timeLayout), e.LastLogin.Protocol)
		}
	}
	if verbose {
		for _, s := range e.Sessions {
			fmt.Fprintf(&b, "On since %s over %s\n", s.Since.In(loc).Format(timeLayout), s.Protocol)
		}
	}
	if m := e.Mail; m != nil {
		switch m.Unread {
		case 0:
			b.WriteString("No unread mail.\n")
		case 1:
			b.WriteString("1 unread message.\n")
		default:
			fmt.Fprintf(&b, "%d unread messages.\n", m.Unread)
		}
	}
	if e.Project != nil && *e.Project != "" {
		b.WriteString("Project: ")
		b.WriteString(withLF(*e.Project))
	}
	if e.Plan != nil {
		if *e.Plan == "" {
			b.WriteString("No Plan.\n")
		} else {
			b.WriteString("Plan:\n")
			b.WriteString(withLF(*e.Plan))
		}
	}
	return b.String()
}

// formatList is the answer to the empty query, with LF line ends.
func formatList(logins []Login, loc *time.Location) string {
	if len(logins) == 0 {
		return "No one logged on.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-24s %-8s %s\n", "Login", "Name", "Service", "Since")
	for _, l := range logins {
		name := l.Name
		if r := []rune(name); len(r) > 24 {
			name = string(r[:24])
		}
		fmt.Fprintf(&b, "%-16s %-24s %-8s %s\n", l.User, name, l.Protocol, l.Since.In(loc).Format(timeLayout))
	}
	return b.String()
}

// withLF returns s ending in exactly one line end.
func withLF(s string) string { return strings.TrimRight(s, "\r\n") + "\n" }
