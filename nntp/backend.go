package nntp

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"
)

// ConnInfo describes the client connection to a Backend.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	// TLS is the connection's state under TLS (implicit, or after
	// STARTTLS), nil on a plaintext connection.
	TLS *tls.ConnectionState
}

// Group is a newsgroup as LIST ACTIVE, GROUP and NEWGROUPS show it.
type Group struct {
	Name             string
	Low, High, Count int64
	// Status is 'y' (posting), 'n' (read-only) or 'm' (moderated).
	Status      byte
	Created     time.Time
	Creator     string
	Description string
	// Moderators are the accounts whose Approved header a moderated
	// group accepts; anyone else's is a forgery (441).
	Moderators []string
}

// Overview is one article's overview line (RFC 3977 section 8.3):
// Number is its number in the group asked about, 0 when asked by
// Message-ID.
type Overview struct {
	Number     int64
	Subject    string
	From       string
	Date       string
	MessageID  string
	References string
	Bytes      int64
	Lines      int64
	Xref       string
}

// Backend is the news store the server reads and posts through. Every
// call gets a context that ends with the session or when the server
// closes. A method that refuses returns an *Error (ErrNoSuchGroup,
// ErrNoSuchArticle, …) to choose the reply; any other error is logged
// and the client hears 403.
type Backend interface {
	// Authenticate checks a user's password (AUTHINFO USER/PASS, SASL).
	Authenticate(ctx context.Context, c ConnInfo, user, password string) error
	// Groups lists every group.
	Groups(ctx context.Context) ([]Group, error)
	// Group returns one group, or ErrNoSuchGroup.
	Group(ctx context.Context, name string) (Group, error)
	// Numbers returns the article numbers of group in [lo, hi],
	// ascending; hi < 0 means no upper bound.
	Numbers(ctx context.Context, group string, lo, hi int64) ([]int64, error)
	// Overview calls fn, in number order, for each article of group in
	// [lo, hi] (hi < 0: no upper bound).
	Overview(ctx context.Context, group string, lo, hi int64, fn func(Overview) error) error
	// Article opens article n of group: its overview (Number set) and
	// text (header, blank line, body; CRLF or LF line ends).
	Article(ctx context.Context, group string, n int64) (Overview, io.ReadCloser, error)
	// ArticleByID opens an article by Message-ID, or ErrNoSuchArticle.
	ArticleByID(ctx context.Context, id string) (Overview, io.ReadCloser, error)
	// NewNews lists the Message-IDs of articles that arrived since then
	// in a group match accepts.
	NewNews(ctx context.Context, since time.Time, match func(group string) bool) ([]string, error)
	// Have reports whether the id is stored or was seen (the history).
	Have(ctx context.Context, id string) (bool, error)
	// Post stores an article the server has checked and completed
	// (Message-ID, Date, Path present; Xref removed). user is who
	// authenticated, "" if nobody did. peer is true for IHAVE and
	// TAKETHIS, false for POST. It returns only once the article is
	// durable. Refuse a duplicate with ErrNotWanted.
	Post(ctx context.Context, a *Article, user string, peer bool) error
}
