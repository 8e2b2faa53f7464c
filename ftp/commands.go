package ftp

import (
	"slices"
	"strings"
)

// Argument rules of a command.
const (
	argOptional = iota
	argRequired
	argNone
)

// command is one row of the verb table: the handler and the rules the
// dispatcher applies before calling it. A handler reports whether the
// session ends.
type command struct {
	fn             func(s *session, arg string) bool
	login          bool // needs a logged-in user
	duringTransfer bool // runs at once while a transfer goes on; others wait for it
	arg            int
	help           string
}

// commands is the verb table; filled in init because HELP reads it.
var commands map[string]*command

func init() {
	commands = map[string]*command{
		// Access control (RFC 959 4.1.1, RFC 4217, RFC 7151).
		"USER": {fn: (*session).cmdUSER, arg: argRequired, help: "USER <name>"},
		"PASS": {fn: (*session).cmdPASS, help: "PASS <password>"},
		"ACCT": {fn: (*session).cmdACCT, help: "ACCT <account>"},
		"AUTH": {fn: (*session).cmdAUTH, arg: argRequired, help: "AUTH TLS"},
		"PBSZ": {fn: (*session).cmdPBSZ, arg: argRequired, help: "PBSZ 0"},
		"PROT": {fn: (*session).cmdPROT, arg: argRequired, help: "PROT C|P"},
		"CCC":  {fn: (*session).cmdCCC, arg: argNone, help: "CCC (refused)"},
		"HOST": {fn: (*session).cmdHOST, arg: argRequired, help: "HOST <name>"},
		"QUIT": {fn: (*session).cmdQUIT, help: "QUIT"},
		"CWD":  {fn: (*session).cmdCWD, login: true, help: "CWD <dir>"},
		"XCWD": {fn: (*session).cmdCWD, login: true, help: "XCWD <dir>"},
		"CDUP": {fn: (*session).cmdCDUP, login: true, arg: argNone, help: "CDUP"},
		"XCUP": {fn: (*session).cmdCDUP, login: true, arg: argNone, help: "XCUP"},

		// Transfer parameters (4.1.2, RFC 2428).
		"PORT": {fn: (*session).cmdPORT, login: true, arg: argRequired, help: "PORT h1,h2,h3,h4,p1,p2"},
		"EPRT": {fn: (*session).cmdEPRT, login: true, arg: argRequired, help: "EPRT |proto|addr|port|"},
		"PASV": {fn: (*session).cmdPASV, login: true, arg: argNone, help: "PASV"},
		"EPSV": {fn: (*session).cmdEPSV, login: true, help: "EPSV [1|2|ALL]"},
		"TYPE": {fn: (*session).cmdTYPE, login: true, arg: argRequired, help: "TYPE A|I"},
		"STRU": {fn: (*session).cmdSTRU, login: true, arg: argRequired, help: "STRU F"},
		"MODE": {fn: (*session).cmdMODE, login: true, arg: argRequired, help: "MODE S"},

		// Service commands (4.1.3, RFC 3659, draft-somers-ftp-mfxx).
		"RETR": {fn: (*session).cmdRETR, login: true, arg: argRequired, help: "RETR <file>"},
		"STOR": {fn: (*session).cmdSTOR, login: true, arg: argRequired, help: "STOR <file>"},
		"STOU": {fn: (*session).cmdSTOU, login: true, help: "STOU [<name>]"},
		"APPE": {fn: (*session).cmdAPPE, login: true, arg: argRequired, help: "APPE <file>"},
		"REST": {fn: (*session).cmdREST, login: true, arg: argRequired, help: "REST <offset>"},
		"RNFR": {fn: (*session).cmdRNFR, login: true, arg: argRequired, help: "RNFR <from>"},
		"RNTO": {fn: (*session).cmdRNTO, login: true, arg: argRequired, help: "RNTO <to>"},
		"ABOR": {fn: (*session).cmdABOR, login: true, duringTransfer: true, arg: argNone, help: "ABOR"},
		"DELE": {fn: (*session).cmdDELE, login: true, arg: argRequired, help: "DELE <file>"},
		"RMD":  {fn: (*session).cmdRMD, login: true, arg: argRequired, help: "RMD <dir>"},
		"XRMD": {fn: (*session).cmdRMD, login: true, arg: argRequired, help: "XRMD <dir>"},
		"MKD":  {fn: (*session).cmdMKD, login: true, arg: argRequired, help: "MKD <dir>"},
		"XMKD": {fn: (*session).cmdMKD, login: true, arg: argRequired, help: "XMKD <dir>"},
		"PWD":  {fn: (*session).cmdPWD, login: true, arg: argNone, help: "PWD"},
		"XPWD": {fn: (*session).cmdPWD, login: true, arg: argNone, help: "XPWD"},
		"LIST": {fn: (*session).cmdLIST, login: true, help: "LIST [<path>]"},
		"NLST": {fn: (*session).cmdNLST, login: true, help: "NLST [<path>]"},
		"MLSD": {fn: (*session).cmdMLSD, login: true, help: "MLSD [<dir>]"},
		"MLST": {fn: (*session).cmdMLST, login: true, help: "MLST [<path>]"},
		"SIZE": {fn: (*session).cmdSIZE, login: true, arg: argRequired, help: "SIZE <file>"},
		"MDTM": {fn: (*session).cmdMDTM, login: true, arg: argRequired, help: "MDTM <file>"},
		"MFMT": {fn: (*session).cmdMFMT, login: true, arg: argRequired, help: "MFMT YYYYMMDDHHMMSS <path>"},
		"SITE": {fn: (*session).cmdSITE, login: true, arg: argRequired, help: "SITE CHMOD|UTIME|HELP"},
		"SYST": {fn: (*session).cmdSYST, arg: argNone, help: "SYST"},
		"STAT": {fn: (*session).cmdSTAT, duringTransfer: true, help: "STAT [<path>]"},
		"HELP": {fn: (*session).cmdHELP, help: "HELP [<command>]"},
		"NOOP": {fn: (*session).cmdNOOP, duringTransfer: true, help: "NOOP"},
		"FEAT": {fn: (*session).cmdFEAT, arg: argNone, help: "FEAT"},
		"OPTS": {fn: (*session).cmdOPTS, arg: argRequired, help: "OPTS UTF8 ON|MLST <facts>"},
	}
}

// helpText lists the verbs eight to a line.
func helpText() []string {
	verbs := make([]string, 0, len(commands))
	for v := range commands {
		verbs = append(verbs, v)
	}
	slices.Sort(verbs)
	var lines []string
	for len(verbs) > 0 {
		n := min(8, len(verbs))
		lines = append(lines, strings.Join(verbs[:n], " "))
		verbs = verbs[n:]
	}
	return lines
}
