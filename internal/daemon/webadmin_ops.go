package daemon

import (
	"context"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/filestore"
	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/internal/webadmin"
)

// webAdminConfig builds the web console's and API's backends over the
// daemon's stores. A store that cannot be opened leaves its part out.
func (d *Daemon) webAdminConfig() (webadmin.Config, func()) {
	cfg := webadmin.Config{Ops: webOps{d}, Events: d.events, Faults: d.FaultControl(), Logger: d.log.With("service", "admin")}
	closers := []func(){}
	if ms, err := d.MailStore(); err == nil {
		wm := newWebMail(d, ms)
		cfg.Mail = wm
		closers = append(closers, wm.close)
	} else {
		d.log.Warn("admin: no mail in the console", "err", err)
	}
	if fs, err := d.FileStore(); err == nil {
		files := d.cfg.Files
		cfg.Files = &webFiles{d: d, store: fs, limits: filestore.Limits{Quota: files.Quota, MaxFileSize: files.MaxFileSize}}
	} else {
		d.log.Warn("admin: no files in the console", "err", err)
	}
	if v, ok := newsPosting.Load(d); ok {
		cfg.News = webNews{v.(*nntpBackend).store}
	}
	return cfg, func() {
		for _, c := range closers {
			c()
		}
	}
}

// webOps is the daemon itself as a webadmin.OpsBackend.
type webOps struct{ d *Daemon }

var _ webadmin.OpsBackend = webOps{}

func (o webOps) Services(ctx context.Context) ([]webadmin.Service, error) {
	out := []webadmin.Service{}
	for _, s := range o.d.status().Services {
		out = append(out, webadmin.Service(s))
	}
	return out, nil
}

func (o webOps) Sessions(ctx context.Context) ([]webadmin.Session, error) {
	out := []webadmin.Session{}
	for _, s := range o.d.Sessions() {
		out = append(out, webadmin.Session{ID: s.ID, Service: s.Service, Peer: s.Peer, User: s.User, Since: s.Since, BytesIn: s.BytesIn, BytesOut: s.BytesOut})
	}
	return out, nil
}

func (o webOps) CloseSession(ctx context.Context, id uint64) (bool, error) {
	return o.d.CloseSession(id), nil
}

func (o webOps) Users(ctx context.Context) ([]webadmin.Account, error) {
	out := []webadmin.Account{}
	for _, a := range o.d.Accounts().List() {
		out = append(out, webadmin.Account{Name: a.Name, FullName: a.FullName})
	}
	return out, nil
}

// Metrics flattens the Prometheus registry: a series is named
// name{label="value",...} as the text format writes it.
func (o webOps) Metrics(ctx context.Context) (map[string]float64, error) {
	mfs, err := o.d.metrics.reg.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			if ls := m.GetLabel(); len(ls) > 0 {
				var parts []string
				for _, l := range ls {
					parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				name += "{" + strings.Join(parts, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"] = m.GetHistogram().GetSampleSum()
			case m.GetSummary() != nil:
				out[name+"_count"] = float64(m.GetSummary().GetSampleCount())
				out[name+"_sum"] = m.GetSummary().GetSampleSum()
			case m.GetUntyped() != nil:
				out[name] = m.GetUntyped().GetValue()
			}
		}
	}
	out["plumb_events_dropped_total"] = float64(o.d.events.dropped.Load())
	return out, nil
}

// Log reads the ring the operator console shows: each line is
// "15:04:05 LEVEL message key=value ...", from today.
func (o webOps) Log(ctx context.Context, n int) ([]webadmin.LogLine, error) {
	out := []webadmin.LogLine{}
	now := time.Now()
	for _, line := range o.d.recent.last(n) {
		ts, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimLeft(rest, " ")
		level, msg, _ := strings.Cut(rest, " ")
		l := webadmin.LogLine{Level: strings.TrimSpace(level), Message: strings.TrimSpace(msg)}
		if t, err := time.ParseInLocation("15:04:05", ts, now.Location()); err == nil {
			l.Time = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), t.Second(), 0, now.Location())
			if l.Time.After(now.Add(time.Minute)) {
				l.Time = l.Time.AddDate(0, 0, -1)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// webNews is the news spool as a webadmin.NewsBackend.
type webNews struct{ store *newsstore.Store }

var _ webadmin.NewsBackend = webNews{}

func (n webNews) Groups(ctx context.Context) ([]webadmin.Group, error) {
	out := []webadmin.Group{}
	for _, g := range n.store.Groups() {
		out = append(out, webadmin.Group{Name: g.Name, Description: g.Description, Low: g.Low, High: g.High,
			Count: g.Count, Status: string(rune(g.Status))})
	}
	return out, nil
}

func articleSummary(group string, num int64, a newsstore.Article) webadmin.ArticleSummary {
	s := webadmin.ArticleSummary{Group: group, Number: num, MessageID: a.MessageID, From: a.From,
		Subject: a.Subject, Date: a.Arrived, Bytes: a.Bytes}
	if t, err := mail.ParseDate(a.Date); err == nil {
		s.Date = t
	}
	return s
}

func (n webNews) Articles(ctx context.Context, group string, offset, limit int) ([]webadmin.ArticleSummary, int, error) {
	g, err := n.store.Group(group)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", webadmin.ErrNotFound, err)
	}
	nums, err := n.store.Numbers(group, g.Low, g.High)
	if err != nil {
		return nil, 0, err
	}
	slices.Reverse(nums)
	out := []webadmin.ArticleSummary{}
	for i := offset; i < len(nums) && len(out) < limit; i++ {
		if a, err := n.store.At(group, nums[i]); err == nil {
			out = append(out, articleSummary(group, nums[i], a))
		}
	}
	return out, len(nums), nil
}

func (n webNews) Article(ctx context.Context, group string, number int64) (io.ReadCloser, webadmin.ArticleSummary, error) {
	a, err := n.store.At(group, number)
	if err != nil {
		return nil, webadmin.ArticleSummary{}, fmt.Errorf("%w: %w", webadmin.ErrNotFound, err)
	}
	rc, err := n.store.Open(a.MessageID)
	if err != nil {
		return nil, webadmin.ArticleSummary{}, fmt.Errorf("%w: %w", webadmin.ErrNotFound, err)
	}
	return rc, articleSummary(group, number, a), nil
}
