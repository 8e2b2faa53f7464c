package webadmin

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"
)

// Limits of ParseView: a message is read up to maxViewBytes, parts nest
// at most maxViewDepth deep and at most maxViewParts are looked at.
const (
	maxViewBytes = 64 << 20
	maxViewDepth = 16
	maxViewParts = 500
)

// Header is one header field, its value decoded (RFC 2047).
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment is a part of a message that is not its text or HTML body.
type Attachment struct {
	Index       int    `json:"index"` // as in /attachments/{index}
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	ContentID   string `json:"content_id,omitempty"`
	Size        int    `json:"size"` // decoded bytes
	data        []byte
}

// View is a message taken apart for reading: its headers, its first
// text/plain and text/html bodies, and its other parts as attachments.
type View struct {
	Headers     []Header     `json:"headers"`
	Text        string       `json:"text"`
	HTML        string       `json:"html"`
	Attachments []Attachment `json:"attachments"`
}

// Data returns the decoded bytes of attachment i.
func (v *View) Data(i int) ([]byte, bool) {
	if i < 0 || i >= len(v.Attachments) {
		return nil, false
	}
	return v.Attachments[i].data, true
}

var viewWordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// ParseView reads a raw message. A malformed message gives what could
// be read of it, never an error for the MIME structure alone; the error
// is for a message that is not RFC 5322 at all or too large.
func ParseView(r io.Reader) (*View, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxViewBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxViewBytes {
		return nil, fmt.Errorf("message larger than %d bytes", maxViewBytes)
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		return nil, fmt.Errorf("not a message: %w", err)
	}
	v := &View{}
	for _, kv := range orderedHeader(b) {
		v.Headers = append(v.Headers, Header{kv.Name, decodeHeader(kv.Value)})
	}
	body, _ := io.ReadAll(msg.Body)
	parts := 0
	v.walk(textproto.MIMEHeader(msg.Header), body, 0, &parts)
	return v, nil
}

// walk takes one entity apart.
func (v *View) walk(h textproto.MIMEHeader, body []byte, depth int, parts *int) {
	*parts++
	if *parts > maxViewParts || depth > maxViewDepth {
		return
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	typ, params, err := mime.ParseMediaType(ct)
	if err != nil {
		typ, params = "text/plain", nil
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if strings.HasPrefix(typ, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			pb, err := io.ReadAll(p)
			if err != nil && !errors.Is(err, io.EOF) {
				return
			}
			v.walk(p.Header, pb, depth+1, parts)
		}
	}
	data := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	switch {
	case disp != "attachment" && typ == "text/plain" && v.Text == "":
		v.Text = decodeCharset(params["charset"], data)
	case disp != "attachment" && typ == "text/html" && v.HTML == "":
		v.HTML = decodeCharset(params["charset"], data)
	default:
		if filename == "" {
			filename = fmt.Sprintf("part-%d", len(v.Attachments)+1)
		}
		v.Attachments = append(v.Attachments, Attachment{
			Index: len(v.Attachments), Filename: decodeHeader(filename), ContentType: typ,
			ContentID: strings.Trim(h.Get("Content-ID"), "<>"), Size: len(data), data: data,
		})
	}
}

func decodeTransfer(enc string, b []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, b)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, _ := base64.StdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return out
	}
	return b
}

// decodeCharset turns text in charset into UTF-8 for the charsets the
// standard library can: UTF-8 and US-ASCII as they are, ISO-8859-1 and
// windows-1252 by code point. Anything else is shown with invalid
// bytes replaced.
func decodeCharset(charset string, b []byte) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return sb.String()
	}
	return strings.ToValidUTF8(string(b), string(utf8.RuneError))
}

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(decodeCharset(charset, b)), nil
}

func decodeHeader(v string) string {
	d, err := viewWordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// orderedHeader returns the header fields of a raw message in the order
// they were written, unfolded.
func orderedHeader(b []byte) []Header {
	var out []Header
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		out = append(out, Header{string(bytes.TrimSpace(name)), string(bytes.TrimSpace(value))})
	}
	return out
}
