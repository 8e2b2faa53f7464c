package sasl

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
)

// maxEncodedLen is the longest base64 line that can decode to MaxResponseLen bytes.
var maxEncodedLen = base64.StdEncoding.EncodedLen(MaxResponseLen)

// DecodeInitialResponse decodes an initial response given on a command
// line (SMTP AUTH, POP3 AUTH, IMAP SASL-IR): "=" is an empty response.
// The result is never nil, so it can be told from "no initial response".
func DecodeInitialResponse(tok string) ([]byte, error) {
	if tok == "=" {
		return []byte{}, nil
	}
	if tok == "" {
		return nil, fmt.Errorf("%w: empty initial response must be sent as \"=\"", ErrMalformed)
	}
	return decode(tok)
}

// DecodeResponse decodes a client's line during an exchange: "*" is
// ErrCanceled, an empty line an empty response, anything else base64.
func DecodeResponse(line string) ([]byte, error) {
	line = strings.TrimRight(line, "\r\n")
	switch line {
	case "*":
		return nil, ErrCanceled
	case "":
		return []byte{}, nil
	}
	return decode(line)
}

func decode(s string) ([]byte, error) {
	if len(s) > maxEncodedLen {
		return nil, ErrTooLong
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", ErrMalformed)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// Encode returns b in base64 as challenges and responses are sent; an
// empty b gives "".
func Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// EncodeInitialResponse returns ir as a client puts it on a command
// line: "=" for an empty one.
func EncodeInitialResponse(ir []byte) string {
	if len(ir) == 0 {
		return "="
	}
	return Encode(ir)
}

// Run drives srv to the end of an exchange. ir is the decoded initial
// response, nil when the command had none. send writes one base64
// challenge after the protocol's continuation marker; recv returns the
// client's next line. Run returns nil when authentication succeeded,
// ErrCanceled, ErrMalformed, ErrTooLong, the context's error, an I/O
// error from send or recv, or the authenticate callback's error
// unchanged.
func Run(ctx context.Context, srv Server, ir []byte, send func(challenge string) error, recv func() (string, error)) error {
	resp := ir
	for step := 0; ; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		chal, done, err := srv.Next(ctx, resp)
		if err != nil || done {
			return err
		}
		if step >= MaxSteps {
			return fmt.Errorf("%w: too many steps", ErrMalformed)
		}
		if err := send(Encode(chal)); err != nil {
			return err
		}
		line, err := recv()
		if err != nil {
			return err
		}
		if resp, err = DecodeResponse(line); err != nil {
			return err
		}
	}
}
