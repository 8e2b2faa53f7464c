package webadmin

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits of the ops pages: the log lines read for the log page.
const maxLogLines = 2000

// consoleLogLevels are the log page's choices, least severe first.
var consoleLogLevels = []string{"DEBUG", "INFO", "WARN", "ERROR"}

func (c *consoleHandler) newsRoutes(handle func(string, func(http.ResponseWriter, *http.Request))) {
	handle("GET /news", c.news)
	handle("GET /news/{$}", c.news)
	handle("GET /news/{group}", c.articles)
	handle("GET /news/{group}/{number}", c.article)
}

func (c *consoleHandler) opsRoutes(handle func(string, func(http.ResponseWriter, *http.Request))) {
	handle("GET /sessions", c.sessions)
	handle("POST /sessions/{id}/end", c.endSession)
	handle("GET /log", c.logPage)
}

func (c *consoleHandler) news(w http.ResponseWriter, r *http.Request) {
	d := struct {
		Served bool
		Groups []Group
	}{Served: c.s.cfg.News != nil}
	if d.Served {
		gs, err := c.s.cfg.News.Groups(r.Context())
		if err != nil {
			c.failErr(w, r, "groups", err)
			return
		}
		d.Groups = gs
	}
	c.render(w, r, http.StatusOK, "news", "News", "news", d)
}

func (c *consoleHandler) newsBackend(w http.ResponseWriter, r *http.Request) (NewsBackend, bool) {
	if c.s.cfg.News == nil {
		c.fail(w, r, http.StatusNotFound, "News is not served by this daemon.")
		return nil, false
	}
	return c.s.cfg.News, true
}

func (c *consoleHandler) articles(w http.ResponseWriter, r *http.Request) {
	nb, ok := c.newsBackend(w, r)
	if !ok {
		return
	}
	group := r.PathValue("group")
	offset := pageOffset(r)
	list, total, err := nb.Articles(r.Context(), group, offset, pageSize)
	if err != nil {
		c.failErr(w, r, "group "+group, err)
		return
	}
	self := url.URL{Path: href(c.base, "news", group), RawQuery: r.URL.RawQuery}
	c.render(w, r, http.StatusOK, "articles", group, "news", struct {
		Group    string
		Articles []ArticleSummary
		Pager    pager
	}{group, list, newPager(self, offset, len(list), total)})
}

func (c *consoleHandler) article(w http.ResponseWriter, r *http.Request) {
	nb, ok := c.newsBackend(w, r)
	if !ok {
		return
	}
	group := r.PathValue("group")
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil || n <= 0 {
		c.fail(w, r, http.StatusNotFound, "No such article.")
		return
	}
	rc, sum, err := nb.Article(r.Context(), group, n)
	if err != nil {
		c.failErr(w, r, "article", err)
		return
	}
	defer rc.Close()
	v, err := ParseView(rc)
	if err != nil {
		c.fail(w, r, http.StatusUnprocessableEntity, "The article cannot be shown: "+err.Error())
		return
	}
	c.render(w, r, http.StatusOK, "article", sum.Subject, "news", struct {
		Summary ArticleSummary
		View    *View
	}{sum, v})
}

func (c *consoleHandler) opsBackend(w http.ResponseWriter, r *http.Request) (OpsBackend, bool) {
	if c.s.cfg.Ops == nil {
		c.fail(w, r, http.StatusNotFound, "This console does not show the daemon's sessions and log.")
		return nil, false
	}
	return c.s.cfg.Ops, true
}

func (c *consoleHandler) sessions(w http.ResponseWriter, r *http.Request) {
	ops, ok := c.opsBackend(w, r)
	if !ok {
		return
	}
	ss, err := ops.Sessions(r.Context())
	if err != nil {
		c.failErr(w, r, "sessions", err)
		return
	}
	// Each service with its count, and the sessions of the one chosen.
	service := r.URL.Query().Get("service")
	counts := map[string]int{}
	var keep []Session
	for _, x := range ss {
		counts[x.Service]++
		if service == "" || x.Service == service {
			keep = append(keep, x)
		}
	}
	var services []serviceCount
	for name, n := range counts {
		services = append(services, serviceCount{name, n, href(c.base, "sessions") + "?service=" + url.QueryEscape(name)})
	}
	slices.SortFunc(services, func(a, b serviceCount) int { return strings.Compare(a.Name, b.Name) })
	c.render(w, r, http.StatusOK, "sessions", "Sessions", "sessions", struct {
		Sessions []Session
		Services []serviceCount
		Service  string
		Total    int
	}{keep, services, service, len(ss)})
}

// serviceCount is one service's open sessions, for the sessions page.
type serviceCount struct {
	Name  string
	Count int
	Href  string
}

func (c *consoleHandler) endSession(w http.ResponseWriter, r *http.Request) {
	ops, ok := c.opsBackend(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, "No such session.")
		return
	}
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 64<<10))
	closed, err := ops.CloseSession(r.Context(), id)
	if err != nil {
		c.failErr(w, r, "end session", err)
		return
	}
	if !closed {
		c.fail(w, r, http.StatusNotFound, "Session "+strconv.FormatUint(id, 10)+" is not open (it may have ended already).")
		return
	}
	c.s.log.Info("webadmin: ended a session", "id", id, "remote", r.RemoteAddr)
	c.back(w, r, href(c.base, "sessions"))
}

// levelRank orders log levels; an unknown level ranks as INFO.
func levelRank(l string) int {
	l = strings.ToUpper(l)
	for i, x := range consoleLogLevels {
		if strings.HasPrefix(l, x) {
			return i
		}
	}
	return 1
}

func (c *consoleHandler) logPage(w http.ResponseWriter, r *http.Request) {
	ops, ok := c.opsBackend(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	level := strings.ToUpper(q.Get("level"))
	if level == "" {
		level = "INFO"
	}
	text := q.Get("q")
	if len(text) > maxSearchBytes {
		c.fail(w, r, http.StatusBadRequest, "The text to look for is too long.")
		return
	}
	lines, err := ops.Log(r.Context(), maxLogLines)
	if err != nil {
		c.failErr(w, r, "log", err)
		return
	}
	min, needle := levelRank(level), strings.ToLower(text)
	var keep []LogLine
	for i := len(lines) - 1; i >= 0; i-- { // newest first
		l := lines[i]
		if levelRank(l.Level) < min || (needle != "" && !logLineContains(l, needle)) {
			continue
		}
		keep = append(keep, l)
	}
	c.render(w, r, http.StatusOK, "log", "Log", "log", struct {
		Levels        []string
		Level, Q, Err string
		Lines         []LogLine
	}{Levels: consoleLogLevels, Level: level, Q: text, Lines: keep})
}

// logLineContains reports whether lower-cased needle is in the line's
// message or one of its attributes.
func logLineContains(l LogLine, needle string) bool {
	if strings.Contains(strings.ToLower(l.Message), needle) {
		return true
	}
	for k, v := range l.Attrs {
		if strings.Contains(strings.ToLower(k+"="+v), needle) {
			return true
		}
	}
	return false
}
